using System.ComponentModel.DataAnnotations;

namespace DePin.Silo.NodeGateway;

/// <summary>Community node gateway settings, bound from the <c>NodeGateway</c> configuration section.</summary>
public sealed class NodeGatewayOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "NodeGateway";

    /// <summary>
    /// Base64 HMAC key (≥ 32 bytes) that signs node session tokens; every API silo of a cluster needs the same one
    /// (a Secret). Empty = a random key per process: fine for one API silo (sessions end with it; agents log in again).
    /// </summary>
    public string? TokenKey { get; set; }

    /// <summary>How long a node session token is valid; agents log in again before it ends.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Longest time a lease call waits for work (long poll).</summary>
    public TimeSpan MaxLongPoll { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Most units one lease call returns.</summary>
    [Range(1, 4096)] public int MaxUnitsPerLease { get; set; } = 1024;

    /// <summary>Most results one report carries.</summary>
    [Range(1, 16384)] public int MaxResultsPerReport { get; set; } = 4096;

    /// <summary>Units a new community node may hold leased per queue shard; grows with verified units up to <see cref="HeldCapMax"/>.</summary>
    [Range(1, 1_000_000)] public int HeldCapBase { get; set; } = 256;

    /// <summary>Largest per-shard held cap, for nodes with a long verified history.</summary>
    [Range(1, 1_000_000)] public int HeldCapMax { get; set; } = 8192;

    /// <summary>Challenge and login requests per minute from one client address.</summary>
    [Range(0, 1_000_000)] public int LoginsPerMinute { get; set; } = 120;

    /// <summary>
    /// Lease, report and heartbeat requests per second from one logged-in agent (all its devices), with bursts of
    /// twice that; 0 = unlimited. Honest agents need a few per second per device; this bounds what a hostile one costs
    /// (each report's signature is checked).
    /// </summary>
    [Range(0, 1_000_000)] public int RequestsPerSecond { get; set; } = 500;

    /// <summary>The per-shard held cap of a community node with <paramref name="unitsVerified"/> verified units and
    /// <paramref name="unitsRejected"/> rejected ones: it grows by one unit per ten verified, and any rejection halves it.</summary>
    public int HeldCap(long unitsVerified, long unitsRejected)
    {
        var cap = Math.Min(HeldCapMax, HeldCapBase + unitsVerified / 10);
        return (int)Math.Max(1, unitsRejected > 0 ? cap / 2 : cap);
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(TokenKey))
        {
            var bytes = new byte[TokenKey.Length];
            if (!Convert.TryFromBase64String(TokenKey, bytes, out var length) || length < 32)
                yield return new ValidationResult("NodeGateway:TokenKey must be base64 of at least 32 bytes (e.g. `openssl rand -base64 32`)", [nameof(TokenKey)]);
        }
        if (TokenLifetime < TimeSpan.FromMinutes(1) || TokenLifetime > TimeSpan.FromHours(24))
            yield return new ValidationResult("NodeGateway:TokenLifetime must be between 1 minute and 24 hours", [nameof(TokenLifetime)]);
        if (MaxLongPoll <= TimeSpan.Zero || MaxLongPoll > TimeSpan.FromMinutes(2))
            yield return new ValidationResult("NodeGateway:MaxLongPoll must be positive and at most 2 minutes", [nameof(MaxLongPoll)]);
    }
}
