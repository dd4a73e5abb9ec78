using System.ComponentModel.DataAnnotations;

namespace DePin.Silo.Hosting;

/// <summary>How this process joins the network, bound from the <c>Silo</c> configuration section.</summary>
public sealed class SiloOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Silo";

    /// <summary>Comma-separated roles: <c>api</c> (HTTP job API), <c>gpu</c> (workers on local accelerators).</summary>
    public string Roles { get; set; } = "api,gpu";

    /// <summary>StackExchange.Redis configuration string. Empty = embedded default (localhost clustering, memory storage).</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Redis password (from a Secret), merged into <see cref="Redis"/> at start-up so the configuration string itself
    /// can stay in plain configuration. Never logged nor shown in error messages.
    /// </summary>
    public string? RedisPassword { get; set; }

    /// <summary>Mutual TLS between silos and on the client gateway (<c>Silo:Tls</c>); applies only with <see cref="Redis"/>.</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    /// <summary>How long start-up waits for Redis to answer PING before the process exits with an error naming <c>Silo:Redis</c>.</summary>
    public TimeSpan RedisConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long SIGTERM waits for the workers to drain (finish and report what they hold) and the silo to leave the
    /// cluster (HostOptions.ShutdownTimeout).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Orleans cluster id (silos with the same id form one cluster).</summary>
    public string ClusterId { get; set; } = "depin-dev";

    /// <summary>Orleans service id (keys durable state; keep it stable across deployments).</summary>
    public string ServiceId { get; set; } = "depin";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)] public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    [Range(1, 65535)] public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos reach this one at (Redis clustering); defaults to 127.0.0.1.</summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";

    /// <summary>True when the <c>api</c> role is on.</summary>
    public bool HasApiRole => RoleList.Contains("api");

    /// <summary>True when the <c>gpu</c> role is on.</summary>
    public bool HasGpuRole => RoleList.Contains("gpu");

    /// <summary>True when Redis is configured.</summary>
    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);

    private string[] RoleList => Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(r => r.ToLowerInvariant()).ToArray();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var unknown = RoleList.Except(["api", "gpu"]).ToArray();
        if (unknown.Length > 0 || RoleList.Length == 0)
            yield return new ValidationResult($"Silo:Roles '{Roles}' must list one or both of: api, gpu", [nameof(Roles)]);
        if (!System.Net.IPAddress.TryParse(AdvertisedIp, out _))
            yield return new ValidationResult($"Silo:AdvertisedIp '{AdvertisedIp}' is not an IP address", [nameof(AdvertisedIp)]);
        if (SiloPort == GatewayPort)
            yield return new ValidationResult("Silo:SiloPort and Silo:GatewayPort must differ", [nameof(GatewayPort)]);
    }
}
