namespace DePin.NodeProtocol;

// The node protocol's JSON bodies (camelCase on the wire). Binary blobs (unit inputs and outputs) are base64.

/// <summary>Asks for a login challenge for a node key (<c>POST /node/v1/challenge</c>).</summary>
public sealed record ChallengeRequest(string NodeAddress);

/// <summary>A single-use nonce; the node signs <see cref="Message"/> (EIP-191) before <see cref="ExpiresAt"/>.</summary>
public sealed record ChallengeResponse(string Nonce, string Message, DateTimeOffset ExpiresAt);

/// <summary>One device of the agent, as the agent describes it (claimed, not yet measured by the network).</summary>
public sealed record DeviceDescription(string DeviceId, DeviceCapabilities Capabilities);

/// <summary>A device's claimed capabilities.</summary>
public sealed record DeviceCapabilities(string DeviceName, string DeviceKind, long MemoryBytes, int ComputeUnits, int WarpSize,
    double SgemmGflops, double CopyGBps);

/// <summary>
/// Logs a node in (<c>POST /node/v1/register</c>): the challenge signed by the node key, and the payout binding signed by
/// the payout address's key ("node K earns for me").
/// </summary>
public sealed record RegisterRequest(
    string NodeAddress,
    string Nonce,
    string Signature,
    string PayoutAddress,
    string PayoutSignature,
    IReadOnlyList<DeviceDescription> Devices);

/// <summary>A session: a bearer token for the other node calls, and the node ids of the agent's devices.</summary>
public sealed record RegisterResponse(string Token, DateTimeOffset ExpiresAt, IReadOnlyList<string> NodeIds);

/// <summary>Asks for up to <see cref="Max"/> units for one device, waiting up to <see cref="WaitMs"/> for work (long poll).</summary>
public sealed record LeaseWorkRequest(string NodeId, int Max, int WaitMs);

/// <summary>Leased units (empty when none arrived within the wait).</summary>
public sealed record LeaseWorkResponse(IReadOnlyList<LeasedUnit> Leases);

/// <summary>One leased unit: what to run and until when the lease holds (renewed by heartbeats).</summary>
public sealed record LeasedUnit(
    long LeaseId,
    string JobId,
    int Index,
    string Kernel,
    string Parameters,
    int UnitCount,
    byte[] Input,
    DateTimeOffset Deadline,
    DateTimeOffset EnqueuedAt,
    int Attempt);

/// <summary>The results of leased units, signed by the node key (<see cref="NodeSignatures.ReportMessage"/>), kept for disputes.</summary>
public sealed record ReportWorkRequest(string NodeId, IReadOnlyList<ReportedUnit> Results, string Signature);

/// <summary>One unit's output and its SHA-256, or the error the node hit.</summary>
public sealed record ReportedUnit(long LeaseId, string JobId, int Index, byte[]? Output, string? Digest, string? Error, double ElapsedMs);

/// <summary>How the scheduler took a report.</summary>
public sealed record ReportWorkResponse(int Accepted, int Verified, int Ignored, int Failed);

/// <summary>The node is alive; renew these leases (<c>POST /node/v1/heartbeat</c>).</summary>
public sealed record HeartbeatRequest(string NodeId, IReadOnlyList<HeldLease> Leases);

/// <summary>A lease the node holds.</summary>
public sealed record HeldLease(long LeaseId, string JobId, int Index);

/// <summary>The leases that are still the node's.</summary>
public sealed record HeartbeatResponse(IReadOnlyList<long> Held);
