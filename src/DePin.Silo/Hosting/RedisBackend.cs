using DePin.Grains;
using DePin.Grains.Scheduling;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>
/// Production backend: Redis for membership (Orleans.Clustering.Redis), grain state (Orleans.Persistence.Redis),
/// reminders (Orleans.Reminders.Redis) and the queue shards' units (<see cref="RedisWorkUnitStore"/>).
/// Redis is checked before anything starts: a malformed <c>Silo:Redis</c> or a server that does not answer PING within
/// <c>Silo:RedisConnectTimeout</c> ends the process with a one-line <see cref="SiloStartupException"/>.
/// </summary>
internal static class RedisBackend
{
    public static void Configure(ISiloBuilder orleans, SiloOptions silo)
    {
        var validated = Connect(silo);

        ConfigurationOptions Parse()
        {
            var options = ConfigurationOptions.Parse(silo.Redis!);
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
    }

    /// <summary>Parses <c>Silo:Redis</c> and PINGs the server; throws a <see cref="SiloStartupException"/> with one line saying what is wrong.</summary>
    internal static ConnectionMultiplexer Connect(SiloOptions silo)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(silo.Redis!);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException)
        {
            throw new SiloStartupException($"Silo:Redis '{silo.Redis}' is not a valid StackExchange.Redis configuration string: {ex.Message}");
        }
        if (options.EndPoints.Count == 0)
            throw new SiloStartupException($"Silo:Redis '{silo.Redis}' names no endpoint (expected host:port, e.g. 127.0.0.1:6379)");

        var timeoutMs = (int)Math.Clamp(silo.RedisConnectTimeout.TotalMilliseconds, 100, int.MaxValue);
        options.ConnectTimeout = timeoutMs;
        options.SyncTimeout = timeoutMs;
        options.AbortOnConnectFail = false;
        var deadline = DateTime.UtcNow + silo.RedisConnectTimeout;
        var where = string.Join(", ", options.EndPoints.Select(e => e.ToString()));
        ConnectionMultiplexer? connection = null;
        try
        {
            connection = ConnectionMultiplexer.Connect(options);
            while (!connection.IsConnected && DateTime.UtcNow < deadline) Thread.Sleep(50);
            if (connection.IsConnected)
            {
                connection.GetDatabase().Ping();
                return connection;
            }
            throw new SiloStartupException(
                $"Silo:Redis '{silo.Redis}': no Redis server answered at {where} within {silo.RedisConnectTimeout.TotalSeconds:0.#} s (Silo:RedisConnectTimeout)");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ArgumentException)
        {
            connection?.Dispose();
            throw new SiloStartupException($"Silo:Redis '{silo.Redis}': cannot connect to Redis: {FirstLine(ex.Message)}");
        }
        catch (SiloStartupException)
        {
            connection?.Dispose();
            throw;
        }
    }

    private static string FirstLine(string? message) =>
        (message ?? "no answer").Split('\n', 2)[0].Split(" - ", 2)[0].Trim();
}

/// <summary>A start-up check failed; the message is one line naming the setting. The program exits non-zero.</summary>
public sealed class SiloStartupException(string message) : Exception(message);
