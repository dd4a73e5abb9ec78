using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DePin.Settlement;

/// <summary>
/// A signed, not necessarily broadcast, postRoot transaction. PERSIST IT before calling BroadcastAsync:
/// after a crash the same raw transaction is rebroadcast (same nonce, same hash), so an epoch can never be
/// posted by two different transactions of ours.
/// </summary>
/// <param name="Epoch">Epoch posted.</param>
/// <param name="Root">Merkle root (0x hex).</param>
/// <param name="Total">Cumulative total of the epoch.</param>
/// <param name="RawTransaction">0x-prefixed signed EIP-1559 transaction.</param>
/// <param name="TxHash">keccak256 of <paramref name="RawTransaction"/>.</param>
/// <param name="Nonce">Account nonce used.</param>
/// <param name="MaxFeePerGas">EIP-1559 max fee.</param>
/// <param name="MaxPriorityFeePerGas">EIP-1559 tip.</param>
/// <param name="Gas">Explicit gas limit.</param>
/// <param name="ReplacedTxHashes">Hashes of earlier versions (same nonce, lower fees) that this one replaces; any of them may still be the one mined.</param>
public sealed record SignedSettlement(
    ulong Epoch,
    string Root,
    [property: JsonConverter(typeof(BigIntegerStringConverter))] BigInteger Total,
    string RawTransaction,
    string TxHash,
    [property: JsonConverter(typeof(BigIntegerStringConverter))] BigInteger Nonce,
    [property: JsonConverter(typeof(BigIntegerStringConverter))] BigInteger MaxFeePerGas,
    [property: JsonConverter(typeof(BigIntegerStringConverter))] BigInteger MaxPriorityFeePerGas,
    [property: JsonConverter(typeof(BigIntegerStringConverter))] BigInteger Gas,
    IReadOnlyList<string> ReplacedTxHashes)
{
    /// <summary>All hashes that could settle this epoch: the current one first, then the replaced ones.</summary>
    [JsonIgnore]
    public IEnumerable<string> AllTxHashes => ReplacedTxHashes.Prepend(TxHash);
}

/// <summary>Outcome of <c>BroadcastAsync</c>.</summary>
public enum BroadcastOutcome
{
    /// <summary>The node accepted the transaction.</summary>
    Sent,
    /// <summary>The node already had it in its pool (rebroadcast after a crash).</summary>
    AlreadyKnown,
    /// <summary>This transaction (or a replaced version of it) is already mined.</summary>
    AlreadyMined,
    /// <summary>The nonce was used by a transaction we do not know; check <c>GetOnChainEpochAsync</c>.</summary>
    NonceConsumed,
}

/// <summary>State reported by <c>WaitForConfirmationAsync</c>.</summary>
public enum SettlementState
{
    /// <summary>One of our transactions was mined successfully and has the required confirmations.</summary>
    Confirmed,
    /// <summary>One of our transactions was mined but reverted (see <see cref="SettlementStatus.OnChainEpoch"/>).</summary>
    Reverted,
    /// <summary>The nonce was consumed by a transaction that is none of ours; the epoch may or may not be posted.</summary>
    Superseded,
    /// <summary>Not mined, or not deep enough, before the timeout: rebroadcast or bump fees.</summary>
    TimedOut,
}

/// <summary>Result of waiting for a settlement.</summary>
public sealed record SettlementStatus(
    SettlementState State,
    ulong Epoch,
    string? MinedTxHash,
    BigInteger? BlockNumber,
    int Confirmations,
    BigInteger? GasUsed,
    ulong OnChainEpoch,
    string Detail)
{
    /// <summary>Whether the epoch is final on chain (Confirmed, or posted by whichever transaction).</summary>
    public bool EpochSettled => State == SettlementState.Confirmed || OnChainEpoch >= Epoch;
}

/// <summary>
/// On-chain state of the distributor. <c>TotalFunded</c> = totalFunded(): tokens received through fund(), the most a
/// cumulative total may reach. <c>Balance</c> = balanceOf(distributor): informational only (a plain token transfer raises
/// it without counting as funding).
/// </summary>
public sealed record DistributorState(ulong LastEpoch, string CurrentRoot, BigInteger TotalPosted, BigInteger TotalFunded, BigInteger Balance, string Settler, string Token)
{
    /// <summary>Funding not yet committed to a posted total: how much the next totals may still grow.</summary>
    public BigInteger Headroom => TotalFunded - TotalPosted;
}

/// <summary>Why a settlement cannot be prepared.</summary>
public enum SettlementRejection
{
    /// <summary>The epoch (or a later one) is already on chain.</summary>
    EpochAlreadyPosted,
    /// <summary>The epoch is not lastEpoch + 1.</summary>
    EpochOutOfOrder,
    /// <summary>totalFunded (tokens added through fund()) is below the total.</summary>
    Underfunded,
    /// <summary>The total is below the previous epoch's total.</summary>
    TotalDecreased,
    /// <summary>The signing key is not the distributor's settler.</summary>
    NotSettler,
    /// <summary>Invalid argument (zero root, total out of range...).</summary>
    InvalidArgument,
    /// <summary>The fee would exceed the configured cap.</summary>
    FeeCapExceeded,
    /// <summary>eth_estimateGas reverted.</summary>
    WouldRevert,
}

/// <summary>A settlement step failed.</summary>
public class SettlementException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A settlement was refused before anything was signed or sent.</summary>
public sealed class SettlementRejectedException(SettlementRejection reason, ulong epoch, ulong onChainEpoch, string message)
    : SettlementException(message)
{
    /// <summary>Why.</summary>
    public SettlementRejection Reason { get; } = reason;
    /// <summary>Epoch requested.</summary>
    public ulong Epoch { get; } = epoch;
    /// <summary>lastEpoch on chain when checked.</summary>
    public ulong OnChainEpoch { get; } = onChainEpoch;
}

/// <summary>Serializes <see cref="BigInteger"/> as a decimal string (JSON persistence of <see cref="SignedSettlement"/>).</summary>
public sealed class BigIntegerStringConverter : JsonConverter<BigInteger>
{
    /// <inheritdoc />
    public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => BigInteger.Parse(reader.GetString()!, NumberStyles.None, CultureInfo.InvariantCulture),
            JsonTokenType.Number => BigInteger.Parse(System.Text.Encoding.UTF8.GetString(reader.ValueSpan), NumberStyles.Integer, CultureInfo.InvariantCulture),
            _ => throw new JsonException("Expected a number or a decimal string."),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
}
