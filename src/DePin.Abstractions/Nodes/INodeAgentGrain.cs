using Orleans.Concurrency;

namespace DePin.Abstractions.Nodes;

/// <summary>
/// A community node agent's identity (key = its node key's address, lower-case): login challenges, the payout
/// binding and its devices. Each device is a <see cref="INodeGrain"/> <c>{address}/{deviceId}</c>.
/// </summary>
[Alias("depin.INodeAgentGrain")]
public interface INodeAgentGrain : IGrainWithStringKey
{
    /// <summary>A fresh single-use login nonce (a few may be pending at once; each expires).</summary>
    [Alias("IssueChallenge")] Task<NodeChallenge> IssueChallengeAsync();

    /// <summary>
    /// Checks the login signature (node key, over the challenge) and the payout binding (payout key), consumes the
    /// nonce, and registers the devices. Refused registrations change nothing but the consumed nonce.
    /// </summary>
    [Alias("Register")] Task<AgentRegistrationOutcome> RegisterAsync(AgentRegistration registration);

    /// <summary>The agent, or null when it never registered.</summary>
    [Alias("Get")] Task<AgentView?> GetAsync();

    /// <summary>
    /// Forgets a device whose node record was pruned (retention); the agent's own state goes with its last device. One-way:
    /// the pruned node does not wait on an agent that may be registering devices.
    /// </summary>
    [Alias("ForgetNode"), OneWay] Task ForgetNodeAsync(string nodeId);
}

/// <summary>A login nonce and its expiry.</summary>
[GenerateSerializer, Immutable, Alias("depin.NodeChallenge")]
public sealed record NodeChallenge([property: Id(0)] string Nonce, [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>What an agent sends to log in.</summary>
[GenerateSerializer, Immutable, Alias("depin.AgentRegistration")]
public sealed record AgentRegistration
{
    [Id(0)] public required string Nonce { get; init; }
    /// <summary>EIP-191 signature of the login message by the node key.</summary>
    [Id(1)] public required string Signature { get; init; }
    [Id(2)] public required string PayoutAddress { get; init; }
    /// <summary>EIP-191 signature of the payout binding message by the payout address's key.</summary>
    [Id(3)] public required string PayoutSignature { get; init; }
    /// <summary>Device id → claimed capabilities.</summary>
    [Id(4)] public required IReadOnlyList<AgentDevice> Devices { get; init; }
    /// <summary>The API silo the agent reached.</summary>
    [Id(5)] public required string Gateway { get; init; }
}

/// <summary>One device of an agent.</summary>
[GenerateSerializer, Immutable, Alias("depin.AgentDevice")]
public sealed record AgentDevice([property: Id(0)] string DeviceId, [property: Id(1)] NodeCapabilities Capabilities);

/// <summary>Why a registration was refused: the caller could not prove who it is, or sent something malformed.</summary>
public enum RegistrationRefusal
{
    /// <summary>Accepted.</summary>
    None,
    /// <summary>Wrong signer, unknown/expired/replayed nonce, or a payout binding not signed by the payout key.</summary>
    NotAuthenticated,
    /// <summary>Malformed fields (addresses, device ids, too many devices).</summary>
    Invalid,
    /// <summary>An operator excluded one of the agent's devices.</summary>
    Excluded,
}

/// <summary>Outcome of a registration.</summary>
[GenerateSerializer, Immutable, Alias("depin.AgentRegistrationOutcome")]
public sealed record AgentRegistrationOutcome(
    [property: Id(0)] RegistrationRefusal Refusal,
    [property: Id(1)] string? Error,
    [property: Id(2)] IReadOnlyList<string> NodeIds);

/// <summary>An agent as stored: its payout binding and devices.</summary>
[GenerateSerializer, Immutable, Alias("depin.AgentView")]
public sealed record AgentView(
    [property: Id(0)] string NodeAddress,
    [property: Id(1)] string PayoutAddress,
    [property: Id(2)] IReadOnlyList<string> NodeIds,
    [property: Id(3)] DateTimeOffset RegisteredAt);
