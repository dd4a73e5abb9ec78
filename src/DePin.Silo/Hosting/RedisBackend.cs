using DePin.Grains;
using DePin.Grains.Scheduling;
using StackExchange.Redis;

namespace DePin.Silo.Hosting;

/// <summary>Production backend: Redis for membership, grain state and reminders.</summary>
internal static class RedisBackend
{
    public static void Configure(ISiloBuilder orleans, SiloOptions silo)
    {
        ConfigurationOptions Parse()
        {
            var options = ConfigurationOptions.Parse(silo.Redis!);
            options.AbortOnConnectFail = false;
            return options;
        }

        orleans.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = silo.ClusterId;
            o.ServiceId = silo.ServiceId;
        });
        orleans.UseRedisClustering(o => o.ConfigurationOptions = Parse());
        orleans.AddRedisGrainStorage(StorageNames.Store, o => o.ConfigurationOptions = Parse());
        orleans.UseRedisReminderService(o => o.ConfigurationOptions = Parse());
        // Not durable yet: queue shards keep their units in silo memory in this mode too (see docs/architecture.md).
        orleans.Services.AddSingleton<IWorkUnitStore, MemoryWorkUnitStore>();
    }
}
