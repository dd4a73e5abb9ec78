using Orleans.Core;

namespace DePin.Grains.Storage;

/// <summary>
/// Group commit for a reentrant grain's state: every caller of <see cref="WriteAsync"/> returns once a storage write that
/// started after its change has completed, and changes made while a write is in flight share the next one. Writes never
/// overlap (they would race on the ETag). If a write fails, every caller waiting on it gets the exception and
/// <paramref name="onFailure"/> runs (a grain drops its activation: memory is ahead of storage).
/// </summary>
/// <remarks>
/// Relies on the state being captured synchronously when the write starts (Orleans' storage providers serialise or
/// copy it before their first await), which holds for the memory and Redis providers used here.
/// </remarks>
public sealed class GroupCommit(IStorage state, Action? onFailure = null)
{
    private long _changed;
    private long _stored;
    private Task? _inFlight;

    /// <summary>Stores the state as it is now (and whatever else changed meanwhile).</summary>
    public async Task WriteAsync()
    {
        var mine = ++_changed;
        while (_stored < mine)
        {
            // A finished write is not in flight (whoever started it may not have resumed yet: never spin on it).
            if (_inFlight is { IsCompleted: false } running)
            {
                await running; // started before this change, or it holds it: look again when done
                continue;
            }
            var write = WriteOnceAsync(_changed);
            _inFlight = write;
            await write;
        }
    }

    private async Task WriteOnceAsync(long upTo)
    {
        try
        {
            await state.WriteStateAsync();
            _stored = Math.Max(_stored, upTo);
        }
        catch
        {
            onFailure?.Invoke();
            throw;
        }
    }
}
