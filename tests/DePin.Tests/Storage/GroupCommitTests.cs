using DePin.Grains.Storage;
using DePin.Tests.Infrastructure;
using Orleans.Core;

namespace DePin.Tests.Storage;

/// <summary><see cref="GroupCommit"/> on its own: writes never overlap, changes made during a write share the next one.</summary>
public sealed class GroupCommitTests
{
    private sealed class GatedStorage : IStorage
    {
        public readonly List<TaskCompletionSource> Writes = [];
        public int InFlight;
        public int MaxInFlight;
        public string? Etag => null;
        public bool RecordExists => true;

        public Task WriteStateAsync()
        {
            MaxInFlight = Math.Max(MaxInFlight, ++InFlight);
            var gate = new TaskCompletionSource();
            Writes.Add(gate);
            return gate.Task.ContinueWith(t => { InFlight--; t.GetAwaiter().GetResult(); }, TaskScheduler.Default);
        }

        public Task ClearStateAsync() => Task.CompletedTask;
        public Task ReadStateAsync() => Task.CompletedTask;
    }

    [Fact]
    public async Task Changes_made_while_a_write_is_in_flight_share_the_next_write_and_every_caller_returns()
    {
        var storage = new GatedStorage();
        var commit = new GroupCommit(storage);
        var first = commit.WriteAsync();
        var second = commit.WriteAsync();
        var third = commit.WriteAsync();
        Assert.Single(storage.Writes);

        storage.Writes[0].SetResult();
        await first;
        await Eventually.WaitAsync(() => Task.FromResult(storage.Writes.Count), n => n == 2, "the second write");
        Assert.False(second.IsCompleted);
        storage.Writes[1].SetResult();
        await Task.WhenAll(second, third).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, storage.Writes.Count);
        Assert.Equal(1, storage.MaxInFlight);
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_calls_the_failure_hook()
    {
        var storage = new GatedStorage();
        var failed = 0;
        var commit = new GroupCommit(storage, () => failed++);
        var first = commit.WriteAsync();
        storage.Writes[0].SetException(new InvalidOperationException("disk on fire"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Equal(1, failed);
    }
}
