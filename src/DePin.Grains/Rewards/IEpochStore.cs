using DePin.Abstractions.Rewards;

namespace DePin.Grains.Rewards;

/// <summary>
/// Closed epochs, one record per epoch (append-only): the entries of the accounts the epoch paid, and the epoch's header
/// once it has left the ledger's recent window. A store keeps every stored value under 1 MiB by chunking the entries.
/// </summary>
public interface IEpochStore
{
    /// <summary>Stores an epoch's entries, replacing any left by a close that crashed before the ledger recorded it.</summary>
    Task SaveEntriesAsync(long epoch, IReadOnlyList<SettlementEntry> entries);

    /// <summary>An epoch's entries; empty when none were stored.</summary>
    Task<IReadOnlyList<SettlementEntry>> LoadEntriesAsync(long epoch);

    /// <summary>Stores (or updates) an epoch's header (<see cref="EpochSettlement.Entries"/> empty).</summary>
    Task SaveHeaderAsync(EpochSettlement header);

    /// <summary>An epoch's header; null when the ledger still holds it (or the epoch is unknown).</summary>
    Task<EpochSettlement?> LoadHeaderAsync(long epoch);
}

/// <summary>The embedded default: epochs in this process's memory, lost with it (like the memory grain storage).</summary>
public sealed class MemoryEpochStore : IEpochStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, IReadOnlyList<SettlementEntry>> _entries = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, EpochSettlement> _headers = new();

    /// <inheritdoc />
    public Task SaveEntriesAsync(long epoch, IReadOnlyList<SettlementEntry> entries)
    {
        _entries[epoch] = [.. entries];
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SettlementEntry>> LoadEntriesAsync(long epoch) =>
        Task.FromResult(_entries.TryGetValue(epoch, out var entries) ? entries : []);

    /// <inheritdoc />
    public Task SaveHeaderAsync(EpochSettlement header)
    {
        _headers[header.Epoch] = header with { Entries = [] };
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<EpochSettlement?> LoadHeaderAsync(long epoch) => Task.FromResult(_headers.GetValueOrDefault(epoch));
}
