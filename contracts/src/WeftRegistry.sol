// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WeftInbox, IWeftRegistry} from "./WeftInbox.sol";

/// @title WeftRegistry
/// @notice The L1 registry of Weft rollups: each rollup's chain id, its inbox
///         (deployed by `register`), its authorized batcher and its challenger.
contract WeftRegistry {
    struct Rollup {
        uint64 chainId;
        address inbox;
        address batcher;
        address challenger;
    }

    address public owner;
    mapping(bytes32 => Rollup) private rollups;
    bytes32[] public rollupIds;

    event RollupRegistered(
        bytes32 indexed rollupId, uint64 chainId, address inbox, address batcher, address challenger, uint64 challengeWindow
    );
    event BatcherChanged(bytes32 indexed rollupId, address batcher);
    event ChallengerChanged(bytes32 indexed rollupId, address challenger);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner();
    error AlreadyRegistered(bytes32 rollupId);
    error UnknownRollup(bytes32 rollupId);
    error ZeroAddress();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    constructor(address owner_) {
        if (owner_ == address(0)) revert ZeroAddress();
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Registers a rollup and deploys its inbox. `genesisRoot` is the
    ///         rollup's genesis state root (the previous root of batch 0),
    ///         `startHeight` the first Weft height batch 0 covers.
    function register(
        bytes32 rollupId,
        uint64 chainId,
        address batcher,
        address challenger,
        uint64 challengeWindow,
        address l2Bridge,
        bytes32 genesisRoot,
        uint64 startHeight
    ) external onlyOwner returns (address inbox) {
        if (rollups[rollupId].inbox != address(0)) revert AlreadyRegistered(rollupId);
        if (batcher == address(0) || challenger == address(0) || l2Bridge == address(0)) revert ZeroAddress();
        inbox = address(new WeftInbox(IWeftRegistry(address(this)), rollupId, challengeWindow, l2Bridge, genesisRoot, startHeight));
        rollups[rollupId] = Rollup(chainId, inbox, batcher, challenger);
        rollupIds.push(rollupId);
        emit RollupRegistered(rollupId, chainId, inbox, batcher, challenger, challengeWindow);
    }

    function setBatcher(bytes32 rollupId, address batcher) external onlyOwner {
        if (rollups[rollupId].inbox == address(0)) revert UnknownRollup(rollupId);
        if (batcher == address(0)) revert ZeroAddress();
        rollups[rollupId].batcher = batcher;
        emit BatcherChanged(rollupId, batcher);
    }

    function setChallenger(bytes32 rollupId, address challenger) external onlyOwner {
        if (rollups[rollupId].inbox == address(0)) revert UnknownRollup(rollupId);
        if (challenger == address(0)) revert ZeroAddress();
        rollups[rollupId].challenger = challenger;
        emit ChallengerChanged(rollupId, challenger);
    }

    function rollup(bytes32 rollupId) external view returns (Rollup memory) {
        return rollups[rollupId];
    }

    function batcherOf(bytes32 rollupId) external view returns (address) {
        return rollups[rollupId].batcher;
    }

    function challengerOf(bytes32 rollupId) external view returns (address) {
        return rollups[rollupId].challenger;
    }

    function rollupCount() external view returns (uint256) {
        return rollupIds.length;
    }
}
