using DePin.Grains.Jobs;
using DePin.Grains.Scheduling;
using Orleans.Storage;

namespace DePin.Silo.Hosting;

/// <summary>The <c>depin</c> grain storage with <see cref="FaultInjection"/> on every read, write and clear.</summary>
internal sealed class FaultInjectionGrainStorage(IGrainStorage inner, FaultInjection faults) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        faults.ReadAsync($"read {stateName} of {grainId}", async () =>
        {
            await inner.ReadStateAsync(stateName, grainId, grainState);
            return true;
        });

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        faults.WriteAsync($"write {stateName} of {grainId}", () => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        faults.WriteAsync($"clear {stateName} of {grainId}", () => inner.ClearStateAsync(stateName, grainId, grainState));

    // The Redis storage connects in the silo lifecycle; Orleans finds it as this (the registered) storage.
    public void Participate(ISiloLifecycle observer) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(observer);
}

/// <summary>Queue shards' unit store with <see cref="FaultInjection"/>.</summary>
internal sealed class FaultInjectionWorkUnitStore(IWorkUnitStore inner, FaultInjection faults) : IWorkUnitStore
{
    public Task<ShardSnapshot> LoadAsync(int shard) => faults.ReadAsync($"load shard {shard}", () => inner.LoadAsync(shard));

    public Task SaveAsync(int shard, ShardDelta delta) => faults.WriteAsync($"save shard {shard} delta", () => inner.SaveAsync(shard, delta));
}

/// <summary>Job output store with <see cref="FaultInjection"/>.</summary>
internal sealed class FaultInjectionJobOutputStore(IJobOutputStore inner, FaultInjection faults) : IJobOutputStore
{
    public Task<StoredOutput?[]> LoadAsync(string jobId, int unitCount) =>
        faults.ReadAsync($"load outputs of {jobId}", () => inner.LoadAsync(jobId, unitCount));

    public async Task<IReadOnlyList<StoredOutput>> SaveAsync(string jobId, IReadOnlyList<StoredOutput> outputs)
    {
        IReadOnlyList<StoredOutput> stored = [];
        await faults.WriteAsync($"save {outputs.Count} outputs of {jobId}", async () => stored = await inner.SaveAsync(jobId, outputs));
        return stored;
    }

    public Task DeleteAsync(string jobId) => faults.WriteAsync($"delete outputs of {jobId}", () => inner.DeleteAsync(jobId));
}

/// <summary>Job directory rows with <see cref="FaultInjection"/>.</summary>
internal sealed class FaultInjectionJobIndexStore(IJobIndexStore inner, FaultInjection faults) : IJobIndexStore
{
    public Task<IReadOnlyList<DePin.Abstractions.Jobs.JobSummary>> LoadAsync(int shard) =>
        faults.ReadAsync($"load job directory shard {shard}", () => inner.LoadAsync(shard));

    public Task UpsertAsync(int shard, DePin.Abstractions.Jobs.JobSummary summary) =>
        faults.WriteAsync($"upsert job {summary.JobId} in directory shard {shard}", () => inner.UpsertAsync(shard, summary));

    public Task RemoveAsync(int shard, IReadOnlyList<string> jobIds) =>
        faults.WriteAsync($"remove {jobIds.Count} jobs from directory shard {shard}", () => inner.RemoveAsync(shard, jobIds));
}
