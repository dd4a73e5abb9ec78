using System.Text.RegularExpressions;
using DePin.Grains;
using DePin.Grains.Scheduling;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Production backend: Redis for membership (Orleans.Clustering.Redis), grain state (Orleans.Persistence.Redis),
/// reminders (Orleans.Reminders.Redis) and the queue shards' units (<see cref="RedisWorkUnitStore"/>), with mutual TLS
/// between silos and on the gateway (<see cref="ClusterTls"/>).
/// Redis is checked before anything starts: a malformed <c>Silo:Redis</c>, a refused <c>Silo:RedisPassword</c> or a
/// server that does not answer PING within <c>Silo:RedisConnectTimeout</c> ends the process with a one-line
/// <see cref="SiloStartupException"/>. No message shows a password.
/// </summary>
internal static partial class RedisBackend
{
    public static void Configure(ISiloBuilder orleans, SiloOptions silo, FaultInjectionOptions faults)
    {
        // The trusted core: only holders of the cluster certificate may join as a silo or call grains as a client.
        if (!ClusterTls.Configure(orleans, silo.Tls))
        {
            orleans.AddStartupTask((services, _) =>
            {
                services.GetRequiredService<ILoggerFactory>().CreateLogger("DePin.Silo.ClusterTls").LogWarning(
                    "Silo:Tls:Mode=Off: silo and gateway connections are plain TCP; anyone who reaches ports {SiloPort}/{GatewayPort} can call any grain. Private development networks only.",
                    silo.SiloPort, silo.GatewayPort);
                return Task.CompletedTask;
            });
        }

        var validated = Connect(silo);

        ConfigurationOptions Parse()
        {
            var options = Options(silo);
            // After start-up, a Redis restart must not kill the silo: keep retrying (commands queue while disconnected).
            options.AbortOnConnectFail = false;
            return options;
        }

        orleans.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = silo.ClusterId;
            o.ServiceId = silo.ServiceId;
        });
        orleans.UseRedisClustering(o => o.ConfigurationOptions = Parse());
        orleans.AddRedisGrainStorage(StorageNames.Store, o => o.ConfigurationOptions = Parse());
        orleans.UseRedisReminderService(o => o.ConfigurationOptions = Parse());

        // Failure detection of a killed silo (kill -9, lost machine): defaults tuned so its grains are reactivated
        // elsewhere within ~10 s; every ClusterMembershipOptions property may be overridden under Silo:Membership.
        orleans.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 3;
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
        });
        orleans.Services.Configure<ClusterMembershipOptions>(orleans.Configuration.GetSection("Silo:Membership"));

        // Drain on SIGTERM: workers (stopped first: hosted services stop in reverse registration order) finish and
        // report what they hold while the silo is still in the cluster, then the silo leaves it.
        orleans.Services.Configure<HostOptions>(o => o.ShutdownTimeout = silo.ShutdownTimeout);

        orleans.Services.AddSingleton<IConnectionMultiplexer>(validated);
        orleans.Services.AddSingleton<IWorkUnitStore, RedisWorkUnitStore>();
        orleans.Services.AddSingleton<DePin.Grains.Jobs.IJobOutputStore, RedisJobOutputStore>();
        orleans.Services.AddSingleton<DePin.Grains.Jobs.IJobIndexStore, RedisJobIndexStore>();

        // Fault tests only (refused outside DOTNET_ENVIRONMENT=Testing by DePinSilo): storage that fails on purpose.
        FaultInjection.Install(orleans.Services, faults);
        if (faults.IsEnabled)
        {
            orleans.AddStartupTask((services, _) =>
            {
                services.GetRequiredService<ILoggerFactory>().CreateLogger("DePin.Silo.FaultInjection").LogWarning(
                    "FAULT INJECTION ON ({Settings}): grain state, queued units and job outputs fail or time out on purpose. Fault tests only.", faults);
                return Task.CompletedTask;
            });
        }
        orleans.Services.AddSingleton<DePin.Grains.Rewards.IEpochStore, RedisEpochStore>();
    }

    /// <summary>
    /// Parses <c>Silo:Redis</c>, merges <c>Silo:RedisPassword</c> and PINGs the server; throws a
    /// <see cref="SiloStartupException"/> with one line saying what is wrong (the configuration string redacted).
    /// </summary>
    internal static ConnectionMultiplexer Connect(SiloOptions silo)
    {
        var shown = Redacted(silo.Redis);
        ConfigurationOptions options;
        try
        {
            options = Options(silo);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException)
        {
            throw new SiloStartupException($"Silo:Redis '{shown}' is not a valid StackExchange.Redis configuration string: {Redact(ex.Message, silo)}");
        }
        if (options.EndPoints.Count == 0)
            throw new SiloStartupException($"Silo:Redis '{shown}' names no endpoint (expected host:port, e.g. 127.0.0.1:6379)");

        var timeoutMs = (int)Math.Clamp(silo.RedisConnectTimeout.TotalMilliseconds, 100, int.MaxValue);
        options.ConnectTimeout = timeoutMs;
        options.SyncTimeout = timeoutMs;
        options.AbortOnConnectFail = false;
        var deadline = DateTime.UtcNow + silo.RedisConnectTimeout;
        var where = string.Join(", ", options.EndPoints.Select(e => e.ToString()));
        ConnectionMultiplexer? connection = null;
        try
        {
            // A multiplexer that keeps retrying would report a wrong password only as a timeout: ask once up front.
            if (RefusesAuthentication(options)) throw new SiloStartupException(RefusedMessage(silo, shown, where));
            connection = ConnectionMultiplexer.Connect(options);
            while (!connection.IsConnected && DateTime.UtcNow < deadline) Thread.Sleep(50);
            if (connection.IsConnected)
            {
                connection.GetDatabase().Ping();
                return connection;
            }
            if (RefusesAuthentication(options)) throw new SiloStartupException(RefusedMessage(silo, shown, where));
            throw new SiloStartupException(
                $"Silo:Redis '{shown}': no Redis server answered at {where} within {silo.RedisConnectTimeout.TotalSeconds:0.#} s (Silo:RedisConnectTimeout)");
        }
        catch (RedisConnectionException ex) when (ex.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            connection?.Dispose();
            throw new SiloStartupException(RefusedMessage(silo, shown, where));
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || ex.Message.StartsWith("WRONGPASS", StringComparison.Ordinal))
        {
            connection?.Dispose();
            throw new SiloStartupException(RefusedMessage(silo, shown, where));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ArgumentException)
        {
            connection?.Dispose();
            throw new SiloStartupException($"Silo:Redis '{shown}': cannot connect to Redis: {Redact(FirstLine(ex.Message), silo)}");
        }
        catch (SiloStartupException)
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary><c>Silo:Redis</c> parsed, with <c>Silo:RedisPassword</c> (when set) as the password.</summary>
    internal static ConfigurationOptions Options(SiloOptions silo)
    {
        var options = ConfigurationOptions.Parse(silo.Redis!);
        if (!string.IsNullOrEmpty(silo.RedisPassword)) options.Password = silo.RedisPassword;
        return options;
    }

    /// <summary>A StackExchange.Redis configuration string, or any text quoting one, with every <c>password=</c> value masked.</summary>
    internal static string Redacted(string? text) =>
        PasswordSetting().Replace(text ?? "", m => m.Groups[1].Value + "***");

    private static string Redact(string text, SiloOptions silo)
    {
        var redacted = Redacted(text);
        foreach (var secret in new[] { silo.RedisPassword, PasswordOf(silo.Redis) })
        {
            if (!string.IsNullOrEmpty(secret)) redacted = redacted.Replace(secret, "***", StringComparison.Ordinal);
        }
        return redacted;
    }

    private static string? PasswordOf(string? configuration)
    {
        var match = PasswordSetting().Match(configuration ?? "");
        return match.Success ? match.Groups[2].Value : null;
    }

    /// <summary>One short connection attempt: true only when Redis answered and refused the credentials.</summary>
    private static bool RefusesAuthentication(ConfigurationOptions options)
    {
        var probe = options.Clone();
        probe.AbortOnConnectFail = true;
        probe.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        try
        {
            using var connection = ConnectionMultiplexer.Connect(probe);
            return false;
        }
        catch (RedisConnectionException ex)
        {
            return ex.FailureType == ConnectionFailureType.AuthenticationFailure;
        }
    }

    private static string RefusedMessage(SiloOptions silo, string shown, string where)
    {
        var hint = !string.IsNullOrEmpty(silo.RedisPassword) ? "check Silo:RedisPassword"
            : PasswordOf(silo.Redis) is not null ? "check the password in Silo:Redis, or give it as Silo:RedisPassword"
            : "it requires a password: set Silo:RedisPassword";
        return $"Silo:Redis '{shown}': Redis at {where} refused the credentials ({hint})";
    }

    private static string FirstLine(string? message) =>
        (message ?? "no answer").Split('\n', 2)[0].Split(" - ", 2)[0].Trim();

    [GeneratedRegex("(\\bpassword\\s*=)([^,']*)", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordSetting();
}

/// <summary>A start-up check failed; the message is one line naming the setting. The program exits non-zero.</summary>
public sealed class SiloStartupException(string message) : Exception(message);
