using System.Security.Cryptography;
using System.Text.RegularExpressions;
using DePin.Abstractions;
using DePin.Abstractions.Nodes;
using DePin.NodeProtocol;

namespace DePin.Grains.Nodes;

/// <summary>Persistent state of a <see cref="NodeAgentGrain"/>: the payout binding (with its signature, the proof) and devices.</summary>
[GenerateSerializer, Alias("depin.NodeAgentState")]
public sealed class NodeAgentState
{
    [Id(0)] public string? PayoutAddress { get; set; }
    [Id(1)] public string? PayoutSignature { get; set; }
    [Id(2)] public List<string> NodeIds { get; set; } = [];
    [Id(3)] public DateTimeOffset RegisteredAt { get; set; }
}

/// <summary>
/// A community node agent's identity. Login is challenge–response: a server nonce (single use, short-lived, kept in
/// memory only — a silo restart just means logging in again) signed by the node key; the payout address is bound by
/// a signature of the payout key, so no one can attach nodes to someone else's address or redirect a node's earnings.
/// </summary>
public sealed partial class NodeAgentGrain(
    [PersistentState("agent", StorageNames.Store)] IPersistentState<NodeAgentState> state,
    TimeProvider clock) : Grain, INodeAgentGrain
{
    /// <summary>How long a login nonce is valid.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);
    /// <summary>Most devices one agent registers.</summary>
    public const int MaxDevices = 16;
    // A few pending nonces, so a stranger asking for challenges in this node's name cannot lock it out.
    private const int MaxPendingChallenges = 4;
    private readonly List<NodeChallenge> _pending = [];

    private string Address => this.GetPrimaryKeyString();

    Task<NodeChallenge> INodeAgentGrain.IssueChallengeAsync()
    {
        var now = clock.GetUtcNow();
        _pending.RemoveAll(c => c.ExpiresAt <= now);
        if (_pending.Count >= MaxPendingChallenges) _pending.RemoveAt(0);
        var challenge = new NodeChallenge(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), now + ChallengeLifetime);
        _pending.Add(challenge);
        return Task.FromResult(challenge);
    }

    async Task<AgentRegistrationOutcome> INodeAgentGrain.RegisterAsync(AgentRegistration registration)
    {
        var now = clock.GetUtcNow();
        _pending.RemoveAll(c => c.ExpiresAt <= now);
        var challenge = _pending.Find(c => c.Nonce == registration.Nonce);
        if (challenge is null) return Refused(RegistrationRefusal.NotAuthenticated, "The nonce is unknown, expired or already used: ask for a new challenge.");
        _pending.Remove(challenge); // single use, whatever happens next

        if (!NodeSignatures.IsSignedBy(NodeSignatures.LoginMessage(Address, challenge.Nonce, challenge.ExpiresAt), registration.Signature, Address))
            return Refused(RegistrationRefusal.NotAuthenticated, $"The login signature was not made by the key of {Address}.");
        if (!PayoutAddress.TryNormalize(registration.PayoutAddress, out var payout))
            return Refused(RegistrationRefusal.Invalid, $"'{Truncate(registration.PayoutAddress)}' is not a payout address (0x and 40 hex digits, not zero).");
        if (!NodeSignatures.IsSignedBy(NodeSignatures.PayoutBindingMessage(Address, payout), registration.PayoutSignature, payout))
            return Refused(RegistrationRefusal.NotAuthenticated, $"The payout binding was not signed by the key of {payout}.");
        var excluded = await Task.WhenAll((registration.Devices.Count == 0 ? state.State.NodeIds : registration.Devices.Select(d => $"{Address}/{d.DeviceId}"))
            .Select(id => GrainFactory.GetGrain<INodeGrain>(id).GetAsync()));
        if (excluded.FirstOrDefault(n => n?.ExcludedBecause is not null) is { } barred)
            return Refused(RegistrationRefusal.Excluded, $"Node {barred.NodeId} is excluded from the network: {barred.ExcludedBecause}");
        if (registration.Devices.Count == 0)
        {
            // A session without devices (e.g. `depin node status`): it covers the devices registered before, if the payout binding still holds.
            if (state.State.PayoutAddress != payout) return Refused(RegistrationRefusal.Invalid, "This node has not registered devices with this payout address yet: run it first.");
            return new AgentRegistrationOutcome(RegistrationRefusal.None, null, [.. state.State.NodeIds]);
        }
        if (registration.Devices.Count > MaxDevices)
            return Refused(RegistrationRefusal.Invalid, $"An agent registers 1 to {MaxDevices} devices.");
        if (registration.Devices.FirstOrDefault(d => !DeviceId().IsMatch(d.DeviceId)) is { } bad)
            return Refused(RegistrationRefusal.Invalid, $"Device id '{Truncate(bad.DeviceId)}' must be 1-32 characters of a-z, 0-9 and '-'.");
        if (registration.Devices.Select(d => d.DeviceId).Distinct().Count() != registration.Devices.Count)
            return Refused(RegistrationRefusal.Invalid, "Device ids must be distinct.");

        var nodeIds = registration.Devices.Select(d => $"{Address}/{d.DeviceId}").ToList();
        // Devices first: a crash after this leaves registered devices the agent simply registers again.
        await Task.WhenAll(registration.Devices.Select((d, i) => GrainFactory.GetGrain<INodeGrain>(nodeIds[i]).RegisterAsync(new NodeRegistration
        {
            OperatorAddress = payout,
            SiloAddress = registration.Gateway,
            Capabilities = d.Capabilities with { Measured = false },
            Community = true,
        })));
        var isNew = state.State.PayoutAddress is null;
        state.State.PayoutAddress = payout;
        state.State.PayoutSignature = registration.PayoutSignature;
        // Devices the agent no longer reports stay registered (they simply go offline); the list stays bounded.
        state.State.NodeIds = [.. state.State.NodeIds.Union(nodeIds).TakeLast(4 * MaxDevices)];
        if (isNew) state.State.RegisteredAt = now;
        await state.WriteStateAsync();
        return new AgentRegistrationOutcome(RegistrationRefusal.None, null, nodeIds);
    }

    Task<AgentView?> INodeAgentGrain.GetAsync() => Task.FromResult(state.State.PayoutAddress is { } payout
        ? new AgentView(Address, payout, [.. state.State.NodeIds], state.State.RegisteredAt)
        : null);

    async Task INodeAgentGrain.ForgetNodeAsync(string nodeId)
    {
        if (!state.State.NodeIds.Remove(nodeId)) return;
        if (state.State.NodeIds.Count > 0)
        {
            await state.WriteStateAsync();
            return;
        }
        // No device left: the payout binding goes too; the agent proves it again at its next login.
        await state.ClearStateAsync();
        state.State = new NodeAgentState();
    }

    private static AgentRegistrationOutcome Refused(RegistrationRefusal refusal, string error) => new(refusal, error, []);

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "…";

    [GeneratedRegex("^[a-z0-9-]{1,32}$")]
    private static partial Regex DeviceId();
}
