using System.Collections.Concurrent;

namespace DePin.Grains.Jobs;

/// <summary>
/// Verified unit outputs of running jobs, written per batch. Keeping them out of the job's grain state means a batch
/// costs a write of that batch, not of every output so far (which made a job's writes grow quadratically).
/// </summary>
public interface IJobOutputStore
{
    /// <summary>All stored outputs of a job, by unit index (null where none is stored).</summary>
    Task<byte[]?[]> LoadAsync(string jobId, int unitCount);

    /// <summary>Stores outputs; an index already stored keeps its first output.</summary>
    Task SaveAsync(string jobId, IReadOnlyList<(int Index, byte[] Output)> outputs);

    /// <summary>Forgets a job's outputs (after its result is assembled, or it ended).</summary>
    Task DeleteAsync(string jobId);
}

/// <summary>Embedded default: outputs in silo memory.</summary>
public sealed class MemoryJobOutputStore : IJobOutputStore
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, byte[]>> _jobs = new();

    /// <inheritdoc />
    public Task<byte[]?[]> LoadAsync(string jobId, int unitCount)
    {
        var outputs = new byte[]?[unitCount];
        if (_jobs.TryGetValue(jobId, out var stored))
        {
            foreach (var (index, output) in stored)
            {
                if (index >= 0 && index < unitCount) outputs[index] = output;
            }
        }
        return Task.FromResult(outputs);
    }

    /// <inheritdoc />
    public Task SaveAsync(string jobId, IReadOnlyList<(int Index, byte[] Output)> outputs)
    {
        var stored = _jobs.GetOrAdd(jobId, _ => new ConcurrentDictionary<int, byte[]>());
        foreach (var (index, output) in outputs) stored.TryAdd(index, output);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string jobId)
    {
        _jobs.TryRemove(jobId, out _);
        return Task.CompletedTask;
    }
}
