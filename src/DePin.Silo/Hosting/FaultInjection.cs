using DePin.Grains;
using DePin.Grains.Jobs;
using DePin.Grains.Scheduling;
using Orleans.Storage;

namespace DePin.Silo.Hosting;

/// <summary>
/// Decides, from one seeded sequence per silo, which storage operations fail and how (<see cref="FaultInjectionOptions"/>),
/// runs the operation accordingly and counts what it injected. Every injected fault is logged as a warning naming the
/// operation, so a fault test can tell from a silo's output that faults landed.
/// </summary>
public sealed class FaultInjection(FaultInjectionOptions options, ILogger<FaultInjection> logger)
{
    private readonly Lock _lock = new();
    private readonly Random _random = new(options.Seed);
    private long _injected;

    /// <summary>Faults injected so far.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    /// <summary>
    /// Installs the decorators over the Redis-backed <c>depin</c> grain storage, <see cref="IWorkUnitStore"/> and
    /// <see cref="IJobOutputStore"/> (registered by <see cref="RedisBackend"/> just before). A no-op when every rate is 0.
    /// </summary>
    internal static void Install(IServiceCollection services, FaultInjectionOptions options)
    {
        if (!options.IsEnabled) return;
        services.AddSingleton(sp => new FaultInjection(options, sp.GetRequiredService<ILogger<FaultInjection>>()));

        var storage = services.Last(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, StorageNames.Store));
        var create = storage.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"the '{StorageNames.Store}' grain storage is not registered by a factory");
        services.AddKeyedSingleton<IGrainStorage>(StorageNames.Store, (sp, key) =>
            new FaultInjectionGrainStorage((IGrainStorage)create(sp, key), sp.GetRequiredService<FaultInjection>()));

        services.AddSingleton<RedisWorkUnitStore>();
        services.AddSingleton<IWorkUnitStore>(sp => new FaultInjectionWorkUnitStore(sp.GetRequiredService<RedisWorkUnitStore>(), sp.GetRequiredService<FaultInjection>()));
        services.AddSingleton<RedisJobOutputStore>();
        services.AddSingleton<IJobOutputStore>(sp => new FaultInjectionJobOutputStore(sp.GetRequiredService<RedisJobOutputStore>(), sp.GetRequiredService<FaultInjection>()));
        services.AddSingleton<RedisJobIndexStore>();
        services.AddSingleton<IJobIndexStore>(sp => new FaultInjectionJobIndexStore(sp.GetRequiredService<RedisJobIndexStore>(), sp.GetRequiredService<FaultInjection>()));
    }

    /// <summary>Reads through <paramref name="read"/>, unless this read fails or times out.</summary>
    public async Task<T> ReadAsync<T>(string what, Func<Task<T>> read)
    {
        switch (Decide(options.ReadFailureRate))
        {
            case Fault.Fail:
                throw Fail(what, "read failed");
            case Fault.TimeoutFailBefore or Fault.TimeoutFailAfter:
                await Task.Delay(options.TimeoutDelay);
                throw Fail(what, "read timed out", timeout: true);
            case Fault.TimeoutSucceed:
                Note(what, "read succeeds late");
                await Task.Delay(options.TimeoutDelay);
                break;
        }
        return await read();
    }

    /// <summary>
    /// Writes through <paramref name="write"/>, unless this write fails before reaching Redis, fails after it landed
    /// (the caller cannot tell the two apart), or times out (then one of those, or late success).
    /// </summary>
    public async Task WriteAsync(string what, Func<Task> write)
    {
        var fault = Decide(options.WriteFailureRate);
        switch (fault)
        {
            case Fault.None:
                await write();
                return;
            case Fault.Fail:
                // Half before, half after the write: decided by the same sequence so a seed replays the same faults.
                if (Coin()) throw Fail(what, "write failed before reaching storage");
                await write();
                throw Fail(what, "write failed after it was stored");
            case Fault.TimeoutFailBefore:
                await Task.Delay(options.TimeoutDelay);
                throw Fail(what, "write timed out (not stored)", timeout: true);
            case Fault.TimeoutFailAfter:
                await write();
                await Task.Delay(options.TimeoutDelay);
                throw Fail(what, "write timed out (but stored)", timeout: true);
            case Fault.TimeoutSucceed:
                Note(what, "write succeeds late");
                await Task.Delay(options.TimeoutDelay);
                await write();
                return;
        }
    }

    private Fault Decide(double failureRate)
    {
        lock (_lock)
        {
            var draw = _random.NextDouble();
            if (draw < failureRate) return Fault.Fail;
            if (draw < failureRate + options.TimeoutRate)
            {
                return _random.Next(3) switch { 0 => Fault.TimeoutFailBefore, 1 => Fault.TimeoutFailAfter, _ => Fault.TimeoutSucceed };
            }
            return Fault.None;
        }
    }

    private bool Coin()
    {
        lock (_lock) return _random.Next(2) == 0;
    }

    private Exception Fail(string what, string how, bool timeout = false)
    {
        Note(what, how);
        var message = $"injected storage fault: {what}: {how}";
        return timeout ? new TimeoutException(message) : new InjectedStorageFaultException(message);
    }

    private void Note(string what, string how)
    {
        Interlocked.Increment(ref _injected);
        logger.LogWarning("Injected storage fault: {Operation}: {Fault}", what, how);
    }

    private enum Fault { None, Fail, TimeoutFailBefore, TimeoutFailAfter, TimeoutSucceed }
}

/// <summary>
/// A storage failure injected on purpose (<c>Silo:FaultInjection</c>). Serializable by Orleans: a storage error reaches
/// callers on other silos inside the grain call's response.
/// </summary>
[GenerateSerializer, Alias("depin.InjectedStorageFaultException")]
public sealed class InjectedStorageFaultException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InjectedStorageFaultException(string message) : base(message) { }
}
