// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EthereumTrie} from "@polytope-labs/solidity-merkle-trees/src/EthereumTrie.sol";
import {StorageValue} from "@polytope-labs/solidity-merkle-trees/src/trie/Node.sol";
import {RLPReader} from "@polytope-labs/solidity-merkle-trees/src/trie/ethereum/RLPReader.sol";

interface IWeftRegistry {
    function batcherOf(bytes32 rollupId) external view returns (address);
    function challengerOf(bytes32 rollupId) external view returns (address);
}

/// @title WeftInbox
/// @notice One rollup's settlement contract on L1: the ordered list of its
///         batches (Weft height range, data commitment, previous and new
///         state root), a challenge window after which a batch's root is
///         final, ETH deposits to the rollup and withdrawals from it proved
///         against a final state root.
///
///         A batch's data is posted as one or more frames, in order, each in
///         its own L1 transaction: `appendFrame` for all but the last,
///         `postBatch` for the last (it carries the header). A frame is the
///         transaction's calldata `data`, or, when `data` is empty, the
///         transaction's blobs (each blob one frame, its versioned hash its
///         frame hash). The data commitment is the keccak chain
///         c = keccak256(c ‖ frameHash) over the frames, from c = 0.
contract WeftInbox {
    using RLPReader for bytes;
    using RLPReader for RLPReader.RLPItem;

    struct Batch {
        uint64 fromHeight;
        uint64 toHeight;
        bytes32 commitment;
        uint32 frames;
        bytes32 prevRoot;
        bytes32 stateRoot;
        uint64 l1Block;
        uint64 timestamp;
    }

    IWeftRegistry public immutable registry;
    bytes32 public immutable rollupId;
    /// @notice Seconds after posting during which a batch can be challenged.
    uint64 public immutable challengeWindow;
    /// @notice The rollup's bridge predeploy, whose storage holds withdrawals.
    address public immutable l2Bridge;
    bytes32 public immutable genesisRoot;
    uint64 public immutable startHeight;

    Batch[] private batches;

    /// @notice Frames of the batch being posted (index batches.length).
    uint32 public pendingFrames;
    bytes32 public pendingCommitment;

    uint64 public depositCount;
    mapping(bytes32 => bool) public finalizedWithdrawals;

    event FrameAppended(uint64 indexed index, uint32 frame, bytes32 frameHash, bool blob);
    event BatchPosted(
        uint64 indexed index,
        uint64 fromHeight,
        uint64 toHeight,
        bytes32 commitment,
        uint32 frames,
        bytes32 prevRoot,
        bytes32 stateRoot
    );
    event PendingDiscarded(uint64 indexed index, uint32 frames);
    event BatchesDeleted(uint64 indexed fromIndex, uint64 count, address challenger);
    event DepositInitiated(uint64 indexed nonce, address indexed from, address indexed to, uint256 value);
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, uint256 nonce, address from, address to, uint256 value);

    error NotBatcher();
    error NotChallenger();
    error WrongIndex(uint64 expected, uint64 got);
    error WrongFromHeight(uint64 expected, uint64 got);
    error EmptyRange();
    error WrongPrevRoot(bytes32 expected, bytes32 got);
    error NoFrame();
    error NoSuchBatch(uint64 index);
    error BatchFinal(uint64 index);
    error BatchNotFinal(uint64 index);
    error ZeroValue();
    error ZeroRecipient();
    error WithdrawalAlreadyFinalized(bytes32 withdrawalHash);
    error WithdrawalNotProved(bytes32 withdrawalHash);
    error BridgeAccountNotProved();
    error PayoutFailed();

    constructor(
        IWeftRegistry registry_,
        bytes32 rollupId_,
        uint64 challengeWindow_,
        address l2Bridge_,
        bytes32 genesisRoot_,
        uint64 startHeight_
    ) {
        registry = registry_;
        rollupId = rollupId_;
        challengeWindow = challengeWindow_;
        l2Bridge = l2Bridge_;
        genesisRoot = genesisRoot_;
        startHeight = startHeight_;
    }

    modifier onlyBatcher() {
        if (msg.sender != registry.batcherOf(rollupId)) revert NotBatcher();
        _;
    }

    // ---- batches -----------------------------------------------------------

    /// @notice Index of the next batch.
    function nextIndex() public view returns (uint64) {
        return uint64(batches.length);
    }

    /// @notice First Weft height of the next batch.
    function nextFromHeight() public view returns (uint64) {
        return batches.length == 0 ? startHeight : batches[batches.length - 1].toHeight + 1;
    }

    /// @notice State root the next batch must start from.
    function lastStateRoot() public view returns (bytes32) {
        return batches.length == 0 ? genesisRoot : batches[batches.length - 1].stateRoot;
    }

    function batch(uint64 index) external view returns (Batch memory) {
        if (index >= batches.length) revert NoSuchBatch(index);
        return batches[index];
    }

    /// @notice Whether batch `index` is past its challenge window.
    function isFinal(uint64 index) public view returns (bool) {
        if (index >= batches.length) return false;
        return block.timestamp >= uint256(batches[index].timestamp) + challengeWindow;
    }

    /// @notice Appends a non-final frame of batch `index`.
    function appendFrame(uint64 index, bytes calldata data) external onlyBatcher {
        if (index != batches.length) revert WrongIndex(uint64(batches.length), index);
        _absorb(index, data);
    }

    /// @notice Posts the last frame of batch `index` and records the batch.
    function postBatch(
        uint64 index,
        uint64 fromHeight,
        uint64 toHeight,
        bytes32 prevRoot,
        bytes32 stateRoot,
        bytes calldata data
    ) external onlyBatcher {
        if (index != batches.length) revert WrongIndex(uint64(batches.length), index);
        uint64 wantFrom = nextFromHeight();
        if (fromHeight != wantFrom) revert WrongFromHeight(wantFrom, fromHeight);
        if (toHeight < fromHeight) revert EmptyRange();
        bytes32 wantPrev = lastStateRoot();
        if (prevRoot != wantPrev) revert WrongPrevRoot(wantPrev, prevRoot);
        _absorb(index, data);
        batches.push(
            Batch({
                fromHeight: fromHeight,
                toHeight: toHeight,
                commitment: pendingCommitment,
                frames: pendingFrames,
                prevRoot: prevRoot,
                stateRoot: stateRoot,
                l1Block: uint64(block.number),
                timestamp: uint64(block.timestamp)
            })
        );
        emit BatchPosted(index, fromHeight, toHeight, pendingCommitment, pendingFrames, prevRoot, stateRoot);
        pendingFrames = 0;
        pendingCommitment = bytes32(0);
    }

    /// @notice Drops the frames appended so far for the next batch (a batcher
    ///         that lost track of them starts the batch again).
    function discardPending() external onlyBatcher {
        emit PendingDiscarded(uint64(batches.length), pendingFrames);
        pendingFrames = 0;
        pendingCommitment = bytes32(0);
    }

    function _absorb(uint64 index, bytes calldata data) private {
        bytes32 c = pendingCommitment;
        uint32 n = pendingFrames;
        if (data.length > 0) {
            bytes32 h = keccak256(data);
            c = keccak256(abi.encodePacked(c, h));
            emit FrameAppended(index, n, h, false);
            n++;
        } else {
            for (uint256 i = 0;; i++) {
                bytes32 h = blobhash(i);
                if (h == bytes32(0)) break;
                c = keccak256(abi.encodePacked(c, h));
                emit FrameAppended(index, n, h, true);
                n++;
            }
        }
        if (n == pendingFrames) revert NoFrame();
        pendingCommitment = c;
        pendingFrames = n;
    }

    // ---- challenges --------------------------------------------------------

    /// @notice Deletes batch `fromIndex` and every later one, while
    ///         `fromIndex` is still inside its challenge window. Called by the
    ///         rollup's challenger when a verifier finds a wrong state root;
    ///         the batcher then posts the range again.
    function deleteBatches(uint64 fromIndex) external {
        if (msg.sender != registry.challengerOf(rollupId)) revert NotChallenger();
        if (fromIndex >= batches.length) revert NoSuchBatch(fromIndex);
        if (isFinal(fromIndex)) revert BatchFinal(fromIndex);
        uint64 count = uint64(batches.length) - fromIndex;
        while (batches.length > fromIndex) {
            batches.pop();
        }
        pendingFrames = 0;
        pendingCommitment = bytes32(0);
        emit BatchesDeleted(fromIndex, count, msg.sender);
    }

    // ---- deposits and withdrawals -------------------------------------------

    /// @notice Deposits msg.value to `to` on the rollup. It is credited there
    ///         once this L1 block is final, through the Weft order.
    function deposit(address to) external payable returns (uint64 nonce) {
        if (msg.value == 0) revert ZeroValue();
        if (to == address(0)) revert ZeroRecipient();
        nonce = depositCount++;
        emit DepositInitiated(nonce, msg.sender, to, msg.value);
    }

    /// @notice Pays out a withdrawal initiated on the rollup, proved against
    ///         the state root of final batch `batchIndex`: `accountProof` is
    ///         the bridge account's proof in the state trie, `storageProof`
    ///         the proof of its `sentWithdrawals[hash]` slot (eth_getProof).
    function finalizeWithdrawal(
        uint64 batchIndex,
        uint256 nonce,
        address from,
        address to,
        uint256 value,
        bytes[] calldata accountProof,
        bytes[] calldata storageProof
    ) external {
        if (!isFinal(batchIndex)) revert BatchNotFinal(batchIndex);
        bytes32 wh = keccak256(abi.encode(nonce, from, to, value));
        if (finalizedWithdrawals[wh]) revert WithdrawalAlreadyFinalized(wh);

        bytes32 storageRoot = _bridgeStorageRoot(batches[batchIndex].stateRoot, accountProof);
        bytes32 slot = keccak256(abi.encode(wh, uint256(0)));
        bytes[] memory keys = new bytes[](1);
        keys[0] = abi.encodePacked(keccak256(abi.encode(slot)));
        StorageValue[] memory vals = EthereumTrie.VerifyProof(storageRoot, storageProof, keys);
        if (vals[0].value.length == 0 || vals[0].value.toRlpItem().toUint() != 1) revert WithdrawalNotProved(wh);

        finalizedWithdrawals[wh] = true;
        emit WithdrawalFinalized(wh, nonce, from, to, value);
        (bool ok,) = to.call{value: value}("");
        if (!ok) revert PayoutFailed();
    }

    function _bridgeStorageRoot(bytes32 stateRoot, bytes[] calldata accountProof) private view returns (bytes32) {
        bytes[] memory keys = new bytes[](1);
        keys[0] = abi.encodePacked(keccak256(abi.encodePacked(l2Bridge)));
        StorageValue[] memory vals = EthereumTrie.VerifyProof(stateRoot, accountProof, keys);
        if (vals[0].value.length == 0) revert BridgeAccountNotProved();
        // account = rlp([nonce, balance, storageRoot, codeHash])
        RLPReader.RLPItem[] memory acc = vals[0].value.toRlpItem().toList();
        if (acc.length != 4) revert BridgeAccountNotProved();
        return bytes32(acc[2].toUint());
    }
}
