// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title CumulativeMerkleDistributor
/// @notice Epoch-based payout of GPU-operator rewards. Every epoch the settler posts ONE Merkle root
///         over (account, cumulativeAmount) leaves; an operator claims `cumulativeAmount - claimed[account]`
///         with a proof against the current root. Because amounts are cumulative, only the latest root
///         matters and a missed claim is never lost.
/// @dev Leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount)))), sorted-pair
///      hashing: identical to the OpenZeppelin merkle-tree JS library StandardMerkleTree(["address", "uint256"]).
///
///      Gas layout (postRoot steady state = 2 warm-able SSTOREs, no external call; claim touches no global slot):
///        slot 0: current root
///        slot 1: {lastEpoch uint32, total uint112, totalFunded uint112}
///      Funding rule: postRoot requires total <= totalFunded. Tokens count as funding only when they come in through
///      fund(amount) (safeTransferFrom from the caller; the amount actually received is counted). Because
///      sum(claimed) <= total <= totalFunded and tokens leave only through claim, the balance always covers
///      total - sum(claimed) for a standard ERC20. Tokens sent by a plain transfer are NOT counted (they stay in the
///      contract, unusable); there is no sync(), because counting a surplus would need the global sum of claims,
///      whose per-claim SSTORE (~5k gas) this layout exists to avoid.
///      Historical roots are NOT stored (a fresh storage slot per epoch would cost 22.1k gas per post);
///      they are in the RootPosted events, indexed by epoch.
contract CumulativeMerkleDistributor {
    using SafeERC20 for IERC20;

    /// @notice Maximum number of recipients of one payBatch call.
    uint256 public constant MAX_BATCH_RECIPIENTS = 500;

    struct State {
        uint32 lastEpoch;
        uint112 total;
        uint112 totalFunded;
    }

    /// @notice The reward token paid out.
    IERC20 public immutable token;
    /// @notice The only address allowed to post roots and pay batches (immutable: no SLOAD per post).
    address public immutable settler;

    bytes32 private _root;
    State private _state;
    /// @notice Cumulative amount already paid to an account.
    mapping(address account => uint256) public claimed;
    /// @notice Whether a push-payment batch id has been paid.
    mapping(uint256 batchId => bool) public batchPaid;

    event RootPosted(uint256 indexed epoch, bytes32 root, uint256 total);
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount);
    event Funded(address indexed from, uint256 amount, uint256 totalFunded);
    event BatchPaid(uint256 indexed batchId, uint256 recipients, uint256 amount);

    error ZeroAddress();
    error NotSettler(address caller);
    error EpochOutOfOrder(uint256 expected, uint256 got);
    error ZeroRoot();
    error TotalDecreased(uint256 previous, uint256 got);
    error TotalTooLarge(uint256 total);
    error ZeroAmount();
    error FundingTooLarge(uint256 totalFunded);
    error Underfunded(uint256 available, uint256 required);
    error InvalidProof(address account, uint256 cumulativeAmount);
    error NothingToClaim(address account, uint256 cumulativeAmount, uint256 alreadyClaimed);
    error HistoricalRootNotStored(uint256 epoch, uint256 lastEpoch);
    error BatchAlreadyPaid(uint256 batchId);
    error BatchLengthMismatch(uint256 recipients, uint256 amounts);
    error BatchSize(uint256 recipients);

    constructor(IERC20 token_, address settler_) {
        if (address(token_) == address(0) || settler_ == address(0)) revert ZeroAddress();
        token = token_;
        settler = settler_;
    }

    /// @notice Publishes the root of epoch `epoch` (must be lastEpoch + 1) whose leaves sum to at most `total`.
    function postRoot(uint256 epoch, bytes32 root, uint256 total) external {
        if (msg.sender != settler) revert NotSettler(msg.sender);
        State memory s = _state;
        uint256 expected = uint256(s.lastEpoch) + 1;
        if (epoch != expected || epoch > type(uint32).max) revert EpochOutOfOrder(expected, epoch);
        if (root == bytes32(0)) revert ZeroRoot();
        if (total < s.total) revert TotalDecreased(s.total, total);
        if (total > type(uint112).max) revert TotalTooLarge(total);
        if (total > s.totalFunded) revert Underfunded(s.totalFunded, total);
        _root = root;
        _state = State(uint32(epoch), uint112(total), s.totalFunded);
        emit RootPosted(epoch, root, total);
    }

    /// @notice Pays `cumulativeAmount - claimed[account]` to `account` (anyone may submit; funds go to `account`).
    function claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, _root, leaf)) revert InvalidProof(account, cumulativeAmount);
        uint256 already = claimed[account];
        if (cumulativeAmount <= already) revert NothingToClaim(account, cumulativeAmount, already);
        uint256 amount;
        unchecked {
            amount = cumulativeAmount - already;
        }
        claimed[account] = cumulativeAmount;
        token.safeTransfer(account, amount);
        emit Claimed(account, amount, cumulativeAmount);
    }

    /// @notice Adds `amount` reward tokens (pulled from the caller with transferFrom; approve first) to the funding
    ///         that postRoot totals are checked against. Anyone may fund. Only the amount actually received counts.
    function fund(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        uint256 funded = uint256(_state.totalFunded) + received;
        if (funded > type(uint112).max) revert FundingTooLarge(funded);
        _state.totalFunded = uint112(funded);
        emit Funded(msg.sender, received, funded);
    }

    /// @notice Push payout of `amounts` to `recipients`, taken from the settler's own balance (allowance),
    ///         recorded under `batchId` so that a batch can never be paid twice.
    function payBatch(uint256 batchId, address[] calldata recipients, uint256[] calldata amounts) external {
        if (msg.sender != settler) revert NotSettler(msg.sender);
        uint256 n = recipients.length;
        if (n != amounts.length) revert BatchLengthMismatch(n, amounts.length);
        if (n == 0 || n > MAX_BATCH_RECIPIENTS) revert BatchSize(n);
        if (batchPaid[batchId]) revert BatchAlreadyPaid(batchId);
        batchPaid[batchId] = true;
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            token.safeTransferFrom(msg.sender, recipients[i], amounts[i]);
            sum += amounts[i];
        }
        emit BatchPaid(batchId, n, sum);
    }

    /// @notice Last posted epoch (0 = none yet).
    function lastEpoch() external view returns (uint256) {
        return _state.lastEpoch;
    }

    /// @notice Root of the last posted epoch (0 = none yet).
    function currentRoot() external view returns (bytes32) {
        return _root;
    }

    /// @notice Cumulative total of the last posted epoch.
    function totalPosted() external view returns (uint256) {
        return _state.total;
    }

    /// @notice Sum of all tokens received through fund(); a posted total may not exceed it.
    function totalFunded() external view returns (uint256) {
        return _state.totalFunded;
    }

    /// @notice Root of `epoch`: the current root for the last epoch, 0 for an epoch not posted yet;
    ///         reverts for older epochs, whose roots are only kept in RootPosted events.
    function epochRoot(uint256 epoch) external view returns (bytes32) {
        uint256 last = _state.lastEpoch;
        if (epoch == 0 || epoch > last) return bytes32(0);
        if (epoch < last) revert HistoricalRootNotStored(epoch, last);
        return _root;
    }
}
