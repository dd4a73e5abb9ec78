using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DePin.Client;

/// <summary>Lifecycle of a job: Submitted → Running → Completed | Failed | Cancelled.</summary>
public enum JobStatus
{
    /// <summary>Unknown (never returned for an existing job).</summary>
    Unknown = 0,
    /// <summary>Accepted and queued; no unit has started.</summary>
    Submitted = 1,
    /// <summary>At least one unit has been leased by a node.</summary>
    Running = 2,
    /// <summary>Every unit verified; the result is available.</summary>
    Completed = 3,
    /// <summary>A unit failed beyond its attempt budget.</summary>
    Failed = 4,
    /// <summary>Cancelled by the client.</summary>
    Cancelled = 5,
}

/// <summary>Helpers on <see cref="JobStatus"/>.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for Completed, Failed and Cancelled.</summary>
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>Options of a job submission.</summary>
public sealed record SubmitJobOptions
{
    /// <summary>Independent nodes whose outputs must agree per unit (server default 1).</summary>
    public int? Redundancy { get; init; }
    /// <summary>-100..100, higher runs first (server default 0).</summary>
    public int? Priority { get; init; }
    /// <summary>Budget in micro-credits; the job is refused when its price is higher. Null = no limit.</summary>
    public long? MaxPriceMicroCredits { get; init; }
    /// <summary>Which nodes may run the job (device kinds, minimum memory, minimum measured GFLOP/s). Null = any node.</summary>
    public JobRequirements? Requirements { get; init; }
    /// <summary>
    /// Sent as the <c>Idempotency-Key</c> header of <c>POST /jobs</c>: a retry with the same key and the same job gets the
    /// job created the first time instead of a second one (the server remembers a key for 24 h).
    /// </summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>Which nodes may run a job; every constraint left empty/null accepts any node.</summary>
public sealed record JobRequirements
{
    /// <summary>Accepted device kinds (<c>Cuda</c>, <c>OpenCL</c>, <c>IlgpuCpu</c>, <c>VectorCpu</c>); empty = any.</summary>
    public IReadOnlyList<string> DeviceKinds { get; init; } = [];
    /// <summary>Minimum device memory in bytes.</summary>
    public long? MinMemoryBytes { get; init; }
    /// <summary>Minimum measured SGEMM throughput of the node, GFLOP/s.</summary>
    public double? MinGflops { get; init; }

    /// <summary>Every device kind a node can report.</summary>
    public static IReadOnlyList<string> KnownDeviceKinds { get; } = ["Cuda", "OpenCL", "IlgpuCpu", "VectorCpu"];

    /// <summary>True when no constraint is set.</summary>
    [JsonIgnore] public bool IsEmpty => DeviceKinds.Count == 0 && MinMemoryBytes is null && MinGflops is null;
}

/// <summary>A job as returned by <c>GET /jobs/{id}</c>.</summary>
public sealed record JobInfo
{
    /// <summary>Job id.</summary>
    public string JobId { get; init; } = "";
    /// <summary>Catalog kernel name.</summary>
    public string Kernel { get; init; } = "";
    /// <summary>Lifecycle state.</summary>
    public JobStatus Status { get; init; }
    /// <summary>Number of work units.</summary>
    public int UnitCount { get; init; }
    /// <summary>Verified units.</summary>
    public int UnitsCompleted { get; init; }
    /// <summary>Replicas per unit.</summary>
    public int Redundancy { get; init; }
    /// <summary>Scheduling priority.</summary>
    public int Priority { get; init; }
    /// <summary>Price of one unit in micro-credits.</summary>
    public long PricePerUnitMicroCredits { get; init; }
    /// <summary>Price of the whole job in micro-credits.</summary>
    public long PriceMicroCredits { get; init; }
    /// <summary>When the job was accepted.</summary>
    public DateTimeOffset SubmittedAt { get; init; }
    /// <summary>When the first unit was leased.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When the job reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Failure reason when Failed.</summary>
    public string? Error { get; init; }
    /// <summary>One-line, human-readable result summary when Completed.</summary>
    public string? ResultSummary { get; init; }
    /// <summary>Lower-case hex SHA-256 of the result bytes.</summary>
    public string? ResultDigest { get; init; }
    /// <summary>Content type of the result.</summary>
    public string? ResultContentType { get; init; }
    /// <summary>Fraction of verified units, 0..1.</summary>
    public double Progress { get; init; }
    /// <summary>Which nodes may run the job; null when the job accepts any node (or the server predates requirements).</summary>
    public JobRequirements? Requirements { get; init; }
    /// <summary>Estimated work of the whole job in GFLOP (one replica); 0 when the server does not report it.</summary>
    public double EstimatedGflop { get; init; }
    /// <summary>Public id of the API key that submitted the job (its owner); null for jobs submitted without one.</summary>
    public string? Owner { get; init; }
}

/// <summary>A job's price and expected run time per online node (<c>POST /jobs/quote</c>); nothing is submitted.</summary>
public sealed record QuoteInfo
{
    /// <summary>Catalog kernel name.</summary>
    public string Kernel { get; init; } = "";
    /// <summary>Number of work units the job would be split into.</summary>
    public int UnitCount { get; init; }
    /// <summary>Price of one unit in micro-credits.</summary>
    public long PricePerUnitMicroCredits { get; init; }
    /// <summary>Price of the whole job in micro-credits.</summary>
    public long PriceMicroCredits { get; init; }
    /// <summary>Estimated work of the whole job in GFLOP (one replica).</summary>
    public double EstimatedGflop { get; init; }
    /// <summary>Every online node, with whether it meets the requirements and how long it would take alone.</summary>
    public IReadOnlyList<NodeEstimateInfo> Nodes { get; init; } = [];
}

/// <summary>One online node in a quote: how long it would take for the whole job at its measured SGEMM rate (a rough bound).</summary>
public sealed record NodeEstimateInfo
{
    /// <summary>Node id.</summary>
    public string NodeId { get; init; } = "";
    /// <summary>Cuda, OpenCL, IlgpuCpu or VectorCpu.</summary>
    public string DeviceKind { get; init; } = "";
    /// <summary>Measured SGEMM throughput, GFLOP/s.</summary>
    public double SgemmGflops { get; init; }
    /// <summary>Whether the node meets the job's requirements.</summary>
    public bool Eligible { get; init; }
    /// <summary>Expected seconds for the whole job on this node alone, all replicas; null when the node has no measured rate.</summary>
    public double? ExpectedSeconds { get; init; }
}

/// <summary>A row of <c>GET /jobs</c>.</summary>
public sealed record JobSummaryInfo
{
    /// <summary>Job id.</summary>
    public string JobId { get; init; } = "";
    /// <summary>Catalog kernel name.</summary>
    public string Kernel { get; init; } = "";
    /// <summary>Lifecycle state.</summary>
    public JobStatus Status { get; init; }
    /// <summary>Number of work units.</summary>
    public int UnitCount { get; init; }
    /// <summary>When the job was accepted.</summary>
    public DateTimeOffset SubmittedAt { get; init; }
}

/// <summary>A finished job's result bytes, verified against the server's digest.</summary>
/// <param name="ContentType">Media type, e.g. <c>application/json</c> or <c>image/png</c>.</param>
/// <param name="Bytes">The raw result.</param>
/// <param name="Digest">Lower-case hex SHA-256 of <paramref name="Bytes"/>.</param>
public sealed record JobResultData(string ContentType, byte[] Bytes, string Digest)
{
    /// <summary>True for JSON and text content types.</summary>
    public bool IsText =>
        ContentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
        || ContentType.Contains("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the bytes as JSON (for JSON results).</summary>
    public JsonDocument ToJsonDocument() => JsonDocument.Parse(Bytes);
}

/// <summary>A catalog kernel (<c>GET /kernels</c>).</summary>
/// <param name="Name">Kernel name used in submissions.</param>
/// <param name="Description">What it computes.</param>
/// <param name="Comparison">How replica outputs are compared (Exact or Tolerance).</param>
public sealed record KernelDescriptor(string Name, string Description, string Comparison);

/// <summary>A node's device capabilities.</summary>
public sealed record NodeCapabilitiesInfo
{
    /// <summary>Device name.</summary>
    public string DeviceName { get; init; } = "";
    /// <summary>Cuda, OpenCL, IlgpuCpu or VectorCpu.</summary>
    public string DeviceKind { get; init; } = "";
    /// <summary>Device memory in bytes.</summary>
    public long MemoryBytes { get; init; }
    /// <summary>Multiprocessors / cores.</summary>
    public int ComputeUnits { get; init; }
    /// <summary>Warp / SIMD width.</summary>
    public int WarpSize { get; init; }
    /// <summary>Measured SGEMM throughput.</summary>
    public double SgemmGflops { get; init; }
    /// <summary>Measured copy bandwidth.</summary>
    public double CopyGBps { get; init; }
}

/// <summary>A registered compute node (<c>GET /nodes</c>).</summary>
public sealed record NodeInfo
{
    /// <summary>Node id.</summary>
    public string NodeId { get; init; } = "";
    /// <summary>EVM address credited for the node's work.</summary>
    public string OperatorAddress { get; init; } = "";
    /// <summary>Orleans silo address.</summary>
    public string SiloAddress { get; init; } = "";
    /// <summary>Device capabilities.</summary>
    public NodeCapabilitiesInfo Capabilities { get; init; } = new();
    /// <summary>First registration.</summary>
    public DateTimeOffset RegisteredAt { get; init; }
    /// <summary>Latest heartbeat.</summary>
    public DateTimeOffset LastHeartbeat { get; init; }
    /// <summary>Whether the node is heartbeating.</summary>
    public bool Online { get; init; }
    /// <summary>Units whose output was verified.</summary>
    public long UnitsVerified { get; init; }
    /// <summary>Units whose output disagreed with the verified output.</summary>
    public long UnitsRejected { get; init; }
    /// <summary>Share of agreeing results, 0..1.</summary>
    public double Reputation { get; init; }
    /// <summary>True for a community node agent (reached over the node gateway).</summary>
    public bool Community { get; init; }
    /// <summary>Why an operator excluded the node; null when admitted.</summary>
    public string? ExcludedBecause { get; init; }
}

/// <summary>An operator's earnings (<c>GET /accounts/{address}</c>).</summary>
public sealed record AccountInfo
{
    /// <summary>Normalized EVM address.</summary>
    public string Address { get; init; } = "";
    /// <summary>All credits ever, in micro-credits (1 credit = 10^6 micro-credits).</summary>
    public long CumulativeMicroCredits { get; init; }
    /// <summary>Units credited.</summary>
    public long UnitsCredited { get; init; }
    /// <summary>Cumulative amount included in the latest closed epoch.</summary>
    public long SettledCumulativeMicroCredits { get; init; }
    /// <summary>Latest epoch that included this account.</summary>
    public long? LastEpoch { get; init; }
    /// <summary>Latest credit.</summary>
    public DateTimeOffset? LastCreditAt { get; init; }
    /// <summary>Nodes operated by this address.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];
}

/// <summary>Where an epoch's settlement batch stands on chain.</summary>
public enum SettlementState
{
    /// <summary>Batch recorded; no transaction has been sent.</summary>
    NotSent = 0,
    /// <summary>Transaction sent, not yet confirmed.</summary>
    Sent = 1,
    /// <summary>Mined with the configured confirmations.</summary>
    Confirmed = 2,
    /// <summary>Nothing to settle.</summary>
    Empty = 3,
}

/// <summary>One account's line in an epoch batch.</summary>
/// <param name="Address">EVM address.</param>
/// <param name="CumulativeMicroCredits">Cumulative earnings at close.</param>
/// <param name="DeltaMicroCredits">What this epoch adds.</param>
public sealed record EpochEntry(string Address, long CumulativeMicroCredits, long DeltaMicroCredits);

/// <summary>A closed epoch and its settlement batch (<c>GET /epochs</c>).</summary>
public sealed record EpochInfo
{
    /// <summary>Epoch number.</summary>
    public long Epoch { get; init; }
    /// <summary>When it was closed.</summary>
    public DateTimeOffset ClosedAt { get; init; }
    /// <summary>The accounts this epoch paid (changed since the last one); empty in <c>GET /epochs</c>, which lists headers.</summary>
    public IReadOnlyList<EpochEntry> Entries { get; init; } = [];
    /// <summary>Accounts in the epoch's Merkle tree (every account with earnings).</summary>
    public int AccountCount { get; init; }
    /// <summary>Accounts whose cumulative amount changed in this epoch.</summary>
    public int ChangedAccounts { get; init; }
    /// <summary>Sum of cumulative amounts at close.</summary>
    public long TotalCumulativeMicroCredits { get; init; }
    /// <summary>Sum of deltas.</summary>
    public long EpochMicroCredits { get; init; }
    /// <summary>On-chain settlement state.</summary>
    public SettlementState State { get; init; }
    /// <summary>Merkle root of the batch, when computed.</summary>
    public string? MerkleRoot { get; init; }
    /// <summary>Settlement transaction, when sent.</summary>
    public string? TransactionHash { get; init; }
}

/// <summary>Where epochs are settled (<c>GET /settlement</c>).</summary>
public sealed record SettlementInfo
{
    /// <summary>Off, DevChain or External.</summary>
    public string Mode { get; init; } = "Off";
    /// <summary>Whether closed epochs are posted on chain.</summary>
    public bool Enabled { get; init; }
    /// <summary>JSON-RPC endpoint of the chain (as the server sees it).</summary>
    public string? RpcUrl { get; init; }
    /// <summary>EIP-155 chain id (31337 = local anvil).</summary>
    public long? ChainId { get; init; }
    /// <summary>CumulativeMerkleDistributor contract.</summary>
    public string? DistributorAddress { get; init; }
    /// <summary>ERC-20 reward token.</summary>
    public string? TokenAddress { get; init; }
    /// <summary>Address that posts the epoch roots.</summary>
    public string? SettlerAddress { get; init; }
    /// <summary>Token base units (wei) per micro-credit, as a decimal string.</summary>
    public string WeiPerMicroCredit { get; init; } = "0";

    /// <summary>True when the chain is a local anvil dev chain (chain id 31337).</summary>
    [JsonIgnore] public bool IsLocalDevChain => ChainId == LocalDevChainId;

    /// <summary>Chain id of a default anvil node.</summary>
    public const long LocalDevChainId = 31337;
}

/// <summary>
/// What an operator needs to claim on chain (<c>GET /accounts/{address}/proof</c>): the cumulative amount of the latest
/// epoch confirmed on chain and its Merkle proof.
/// </summary>
public sealed record AccountProofInfo
{
    /// <summary>Normalized EVM address.</summary>
    public string Address { get; init; } = "";
    /// <summary>Latest epoch confirmed on chain that includes the account.</summary>
    public long Epoch { get; init; }
    /// <summary>Cumulative earnings in that epoch, in micro-credits.</summary>
    public long CumulativeMicroCredits { get; init; }
    /// <summary>The leaf amount in token base units (wei), as a decimal string.</summary>
    public string CumulativeAmountWei { get; init; } = "0";
    /// <summary>Sibling hashes (0x + 64 hex digits), leaf to root.</summary>
    public IReadOnlyList<string> Proof { get; init; } = [];
    /// <summary>Merkle root posted for <see cref="Epoch"/>.</summary>
    public string MerkleRoot { get; init; } = "";
    /// <summary>CumulativeMerkleDistributor contract to call <c>claim</c> on.</summary>
    public string? DistributorAddress { get; init; }
    /// <summary>ERC-20 reward token.</summary>
    public string? TokenAddress { get; init; }
    /// <summary>EIP-155 chain id.</summary>
    public long ChainId { get; init; }
    /// <summary>JSON-RPC endpoint of the chain (as the server sees it).</summary>
    public string? RpcUrl { get; init; }
    /// <summary>Transaction that posted the root.</summary>
    public string? TransactionHash { get; init; }

    /// <summary><see cref="CumulativeAmountWei"/> parsed.</summary>
    /// <exception cref="FormatException">The server sent something other than a non-negative decimal integer.</exception>
    [JsonIgnore]
    public BigInteger CumulativeAmount =>
        BigInteger.TryParse(CumulativeAmountWei, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"cumulativeAmountWei '{CumulativeAmountWei}' is not a non-negative decimal integer.");

    /// <summary><see cref="Proof"/> as 32-byte arrays.</summary>
    /// <exception cref="FormatException">A proof element is not 0x followed by 64 hex digits.</exception>
    public IReadOnlyList<byte[]> ProofBytes() => Proof.Select(p =>
    {
        var hex = p.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? p[2..] : p;
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
            throw new FormatException($"Proof element '{p}' is not 32 bytes of hex (0x followed by 64 hex digits).");
        return Convert.FromHexString(hex);
    }).ToList();
}

/// <summary>One epoch's line in an earnings statement.</summary>
public sealed record StatementLineInfo
{
    /// <summary>Epoch number.</summary>
    public long Epoch { get; init; }
    /// <summary>When the epoch was closed.</summary>
    public DateTimeOffset ClosedAt { get; init; }
    /// <summary>The account's cumulative earnings at close, in micro-credits.</summary>
    public long CumulativeMicroCredits { get; init; }
    /// <summary>What this epoch added, in micro-credits.</summary>
    public long DeltaMicroCredits { get; init; }
    /// <summary>On-chain settlement state of the epoch.</summary>
    public SettlementState State { get; init; }
    /// <summary>Settlement transaction, when sent.</summary>
    public string? TransactionHash { get; init; }
}

/// <summary>An operator's earnings statement (<c>GET /accounts/{address}/statement</c>): totals and every epoch that paid it, newest first.</summary>
public sealed record StatementInfo
{
    /// <summary>Account totals.</summary>
    public AccountInfo Account { get; init; } = new();
    /// <summary>Epochs including the account, newest first.</summary>
    public IReadOnlyList<StatementLineInfo> Epochs { get; init; } = [];
}

/// <summary>An API key's public facts (<c>GET /keys</c>); the secret is never shown again after creation.</summary>
public sealed record ApiKeyDescriptor
{
    /// <summary>Public key id (the middle part of <c>dpk_&lt;keyId&gt;_&lt;secret&gt;</c>).</summary>
    public string KeyId { get; init; } = "";
    /// <summary><c>client</c> or <c>admin</c>.</summary>
    public string Role { get; init; } = "";
    /// <summary>Label given at creation.</summary>
    public string? Name { get; init; }
    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When it was revoked; null while valid.</summary>
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>A key just created (<c>POST /keys</c>): <see cref="Key"/> is shown this once.</summary>
public sealed record CreatedApiKeyInfo
{
    /// <summary>The full key to send as <c>Authorization: Bearer</c>; store it now.</summary>
    public string Key { get; init; } = "";
    /// <summary>Public key id.</summary>
    public string KeyId { get; init; } = "";
    /// <summary><c>client</c> or <c>admin</c>.</summary>
    public string Role { get; init; } = "";
    /// <summary>Label.</summary>
    public string? Name { get; init; }
    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>JSON conventions of the API: camelCase, enums as strings.</summary>
public static class DePinJson
{
    /// <summary>Shared serializer options (camelCase, case-insensitive reads, string enums).</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}
