using DePin.Grains;
using DePin.Grains.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace DePin.Tests.Infrastructure;

/// <summary>
/// Wraps the silo's real <c>depin</c> grain storage and makes some <c>WriteStateAsync</c> calls fail: a seeded random
/// share of them, or the next few, for the state names chosen (e.g. <c>job</c>, <c>account</c>). Half the random
/// faults fail before the write, half after it (stored, yet reported failed: a timeout), so both kinds are exercised.
/// Install with <see cref="Install"/> from <see cref="TestSilo.StartAsync(bool, IDictionary{string, string?}?, Action{WebApplicationBuilder}?)"/>'s configure.
/// </summary>
public sealed class FaultyGrainStorage(int seed) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly Lock _lock = new();
    private readonly Random _random = new(seed);
    private IGrainStorage? _inner;
    private HashSet<string> _states = [];
    private double _share;
    private int _failNext;
    private int _failures;

    /// <summary>Write failures injected so far.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Fails a random <paramref name="share"/> of the writes of <paramref name="stateNames"/> from now on.</summary>
    public void FailShare(double share, params string[] stateNames)
    {
        lock (_lock) (_share, _failNext, _states) = (share, 0, [.. stateNames]);
    }

    /// <summary>Fails the next <paramref name="count"/> writes of <paramref name="stateNames"/> (before they reach storage).</summary>
    public void FailNext(int count, params string[] stateNames)
    {
        lock (_lock) (_share, _failNext, _states) = (0, count, [.. stateNames]);
    }

    /// <summary>No more faults.</summary>
    public void Stop() => FailShare(0);

    /// <summary>
    /// Makes <paramref name="builder"/>'s silo store through <paramref name="faults"/>. The host program registers its
    /// storage after the test's configure runs, so the keyed <see cref="IGrainStorage"/> that Orleans resolves by name
    /// (the last one registered for <see cref="StorageNames.Store"/>) is replaced when the service provider is built.
    /// </summary>
    public static void Install(WebApplicationBuilder builder, FaultyGrainStorage faults) =>
        builder.Host.UseServiceProviderFactory(new DecoratingFactory(services =>
        {
            var real = services.Last(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, StorageNames.Store));
            var create = real.KeyedImplementationFactory
                ?? throw new InvalidOperationException($"the '{StorageNames.Store}' storage is not registered by a factory");
            services.AddKeyedSingleton<IGrainStorage>(StorageNames.Store, (sp, key) =>
            {
                faults._inner = (IGrainStorage)create(sp, key);
                return faults;
            });
            // The jobs' output store fails under the state name "outputs", before or after the batch is stored.
            var outputs = services.Last(d => d.ServiceType == typeof(IJobOutputStore) && !d.IsKeyedService);
            services.AddSingleton<IJobOutputStore>(sp => new FaultyOutputStore(faults,
                (IJobOutputStore)(outputs.ImplementationInstance ?? outputs.ImplementationFactory?.Invoke(sp)
                    ?? ActivatorUtilities.CreateInstance(sp, outputs.ImplementationType!))));
        }));

    private sealed class FaultyOutputStore(FaultyGrainStorage faults, IJobOutputStore inner) : IJobOutputStore
    {
        public Task<StoredOutput?[]> LoadAsync(string jobId, int unitCount) => inner.LoadAsync(jobId, unitCount);

        public async Task<IReadOnlyList<StoredOutput>> SaveAsync(string jobId, IReadOnlyList<StoredOutput> outputs)
        {
            var fault = faults.Decide("outputs");
            if (fault == Fault.Before) throw new StorageFaultException($"injected failure before storing outputs of {jobId}");
            var stored = await inner.SaveAsync(jobId, outputs);
            if (fault == Fault.After) throw new StorageFaultException($"injected failure after storing outputs of {jobId}");
            return stored;
        }

        public Task DeleteAsync(string jobId) => inner.DeleteAsync(jobId);
    }

    /// <summary>What storage holds for a grain right now (not what its activation holds in memory).</summary>
    public async Task<T> ReadStoredAsync<T>(string stateName, GrainId grainId) where T : new()
    {
        var stored = new StoredState<T>();
        await Inner.ReadStateAsync(stateName, grainId, stored);
        return stored.State;
    }

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Inner.ReadStateAsync(stateName, grainId, grainState);

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var fault = Decide(stateName);
        if (fault == Fault.Before) throw new StorageFaultException($"injected failure before writing {stateName} of {grainId}");
        await Inner.WriteStateAsync(stateName, grainId, grainState);
        if (fault == Fault.After) throw new StorageFaultException($"injected failure after writing {stateName} of {grainId}");
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Inner.ClearStateAsync(stateName, grainId, grainState);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle observer) => (Inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(observer);

    private IGrainStorage Inner => _inner ?? throw new InvalidOperationException("not installed");

    private Fault Decide(string stateName)
    {
        lock (_lock)
        {
            if (!_states.Contains(stateName)) return Fault.None;
            if (_failNext > 0)
            {
                _failNext--;
                _failures++;
                return Fault.Before;
            }
            if (_share <= 0 || _random.NextDouble() >= _share) return Fault.None;
            _failures++;
            return _random.Next(2) == 0 ? Fault.Before : Fault.After;
        }
    }

    private enum Fault { None, Before, After }

    private sealed class StoredState<T> : IGrainState<T> where T : new()
    {
        [System.Diagnostics.CodeAnalysis.AllowNull] public T State { get; set; } = new();
        public string? ETag { get; set; }
        public bool RecordExists { get; set; }
    }

    private sealed class DecoratingFactory(Action<IServiceCollection> decorate) : IServiceProviderFactory<IServiceCollection>
    {
        private readonly DefaultServiceProviderFactory _default = new();

        public IServiceCollection CreateBuilder(IServiceCollection services)
        {
            decorate(services);
            return _default.CreateBuilder(services);
        }

        public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder) => _default.CreateServiceProvider(containerBuilder);
    }
}

/// <summary>A write failure injected by <see cref="FaultyGrainStorage"/>.</summary>
public sealed class StorageFaultException(string message) : Exception(message);
