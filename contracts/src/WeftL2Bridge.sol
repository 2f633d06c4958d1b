// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title WeftL2Bridge
/// @notice The bridge predeploy of a Weft EVM rollup (at a fixed address in
///         the rollup's genesis). A withdrawal locks its value here and marks
///         its hash in `sentWithdrawals`, a mapping at storage slot 0, so the
///         L1 inbox can prove it against a posted state root. Deposits from
///         L1 are credited by the rollup's executor, which counts them in
///         `depositsProcessed` (slot 2).
contract WeftL2Bridge {
    /// @notice Hashes of initiated withdrawals (slot 0).
    mapping(bytes32 => bool) public sentWithdrawals;
    /// @notice Nonce of the next withdrawal (slot 1).
    uint256 public withdrawalNonce;
    /// @notice Number of L1 deposits credited so far (slot 2), written by the executor.
    uint256 public depositsProcessed;

    event WithdrawalInitiated(
        uint256 indexed nonce, address indexed from, address indexed to, uint256 value, bytes32 withdrawalHash
    );

    error ZeroValue();
    error ZeroRecipient();

    /// @notice The hash a withdrawal is proved by on L1.
    function withdrawalHash(uint256 nonce, address from, address to, uint256 value) public pure returns (bytes32) {
        return keccak256(abi.encode(nonce, from, to, value));
    }

    /// @notice Withdraws msg.value to `to` on L1. The value stays locked here
    ///         (out of circulation on the rollup); the L1 inbox pays it out
    ///         once a final state root includes the withdrawal.
    function initiateWithdrawal(address to) external payable returns (uint256 nonce) {
        if (msg.value == 0) revert ZeroValue();
        if (to == address(0)) revert ZeroRecipient();
        nonce = withdrawalNonce++;
        bytes32 h = withdrawalHash(nonce, msg.sender, to, msg.value);
        sentWithdrawals[h] = true;
        emit WithdrawalInitiated(nonce, msg.sender, to, msg.value, h);
    }
}
