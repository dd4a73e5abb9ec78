using System.Collections.Concurrent;

namespace DePin.Grains.Jobs;

/// <summary>
/// Verified unit outputs of running jobs, written per batch, together with who earns each unit. Keeping them out of the
/// job's grain state means a batch costs a write of that batch, not of every output so far (which made a job's writes
/// grow quadratically). The store is the job's source of truth for credits: a unit's credits are derived from the
/// payees stored with its first output, so a unit computed again after a crash pays the first payees, never both.
/// </summary>
public interface IJobOutputStore
{
    /// <summary>All stored outputs of a job, by unit index (null where none is stored).</summary>
    Task<StoredOutput?[]> LoadAsync(string jobId, int unitCount);

    /// <summary>
    /// Stores outputs; an index already stored keeps its first output. Returns, for each given output in order, the
    /// one the store holds afterwards (the given one, or the earlier one that won).
    /// </summary>
    Task<IReadOnlyList<StoredOutput>> SaveAsync(string jobId, IReadOnlyList<StoredOutput> outputs);

    /// <summary>Forgets a job's outputs (after its result is assembled, or it ended).</summary>
    Task DeleteAsync(string jobId);
}

/// <summary>A verified unit output and who earns it: each node with its operator's payout address at acceptance.</summary>
[GenerateSerializer, Immutable, Alias("depin.StoredOutput")]
public sealed record StoredOutput(
    [property: Id(0)] int Index,
    [property: Id(1)] byte[] Output,
    [property: Id(2)] IReadOnlyList<Payee> Payees);

/// <summary>A node that verified a unit and the account it earns for (null: the node was not registered, earns nothing).</summary>
[GenerateSerializer, Immutable, Alias("depin.Payee")]
public sealed record Payee([property: Id(0)] string NodeId, [property: Id(1)] string? Account);

/// <summary>Embedded default: outputs in silo memory.</summary>
public sealed class MemoryJobOutputStore : IJobOutputStore
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, StoredOutput>> _jobs = new();

    /// <inheritdoc />
    public Task<StoredOutput?[]> LoadAsync(string jobId, int unitCount)
    {
        var outputs = new StoredOutput?[unitCount];
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
    public Task<IReadOnlyList<StoredOutput>> SaveAsync(string jobId, IReadOnlyList<StoredOutput> outputs)
    {
        var stored = _jobs.GetOrAdd(jobId, _ => new ConcurrentDictionary<int, StoredOutput>());
        return Task.FromResult<IReadOnlyList<StoredOutput>>([.. outputs.Select(o => stored.GetOrAdd(o.Index, o))]);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string jobId)
    {
        _jobs.TryRemove(jobId, out _);
        return Task.CompletedTask;
    }
}
