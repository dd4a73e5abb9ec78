using DePin.Abstractions.Rewards;
using DePin.Grains;
using DePin.Grains.Rewards;
using DePin.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Xunit.Abstractions;

namespace DePin.Tests.Ledger;

/// <summary>
/// The ledger on a real in-process silo (embedded storage): epochs stored per key with bounded state, only dirty
/// accounts read at a close, credits racing a close, quarantine, and crashes that lose no dirtiness.
/// </summary>
public sealed class LedgerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_ledger_state_does_not_grow_with_epochs()
    {
        await using var silo = await TestSilo.StartAsync(workers: false);
        var accounts = Addresses(40);
        await CreditAsync(silo, accounts, "seed", 0);
        await CloseAsync(silo);

        int ledgerAt20 = 0, shardsAt20 = 0;
        for (var epoch = 2; epoch <= 70; epoch++)
        {
            await CreditAsync(silo, accounts.Skip(epoch % 10 * 4).Take(4), "e" + epoch, 0);
            Assert.Equal(epoch, (await CloseAsync(silo)).Epoch);
            if (epoch == 20) (ledgerAt20, shardsAt20) = (await LedgerSizeAsync(silo), await ShardsSizeAsync(silo));
        }
        var (ledgerAt70, shardsAt70) = (await LedgerSizeAsync(silo), await ShardsSizeAsync(silo));
        output.WriteLine($"ledger state: {ledgerAt20} B after 20 epochs, {ledgerAt70} B after 70; shards: {shardsAt20} B, {shardsAt70} B");
        Assert.InRange(ledgerAt70, ledgerAt20 - 64, ledgerAt20 + 64); // a few varint bytes either way, not a header per epoch
        Assert.InRange(shardsAt70, shardsAt20 - 256, shardsAt20 + 256);

        // Old epochs are still there, from the epoch store.
        var ledger = silo.Grains.GetGrain<ILedgerGrain>(0);
        var first = await ledger.GetEpochAsync(1);
        Assert.NotNull(first);
        Assert.Equal(40, first.Entries.Count);
        Assert.Equal(70, (await ledger.ListEpochsAsync(0, 1000)).Count);
        Assert.Equal([70L, 69L], (await ledger.ListEpochsAsync(0, 2)).Select(e => e.Epoch));
    }

    [Fact]
    public async Task A_close_reads_only_dirty_accounts_and_carries_the_others_forward()
    {
        await using var silo = await TestSilo.StartAsync(workers: false);
        var accounts = Addresses(30);
        await CreditAsync(silo, accounts, "seed", 0);
        var first = await CloseAsync(silo);
        Assert.Equal((30, 30, 30), (first.AccountsRead, first.ChangedAccounts, first.AccountCount));

        await CreditAsync(silo, accounts.Take(3), "more", 0);
        var second = await CloseAsync(silo);
        Assert.Equal((3, 3, 30), (second.AccountsRead, second.ChangedAccounts, second.AccountCount));
        Assert.Equal(first.TotalCumulativeMicroCredits + 3 * 100, second.TotalCumulativeMicroCredits);
        Assert.Equal(300, second.EpochMicroCredits);

        // A unit credited twice is no change: nothing to read, nothing to close.
        await CreditAsync(silo, accounts.Take(3), "more", 0);
        Assert.Null(await silo.Grains.GetGrain<ILedgerGrain>(0).CloseEpochAsync());

        var statement = await silo.Grains.GetGrain<ILedgerGrain>(0).GetStatementAsync(accounts[0]);
        Assert.Equal([2L, 1L], statement.Select(l => l.Epoch));
        Assert.Equal([200L, 100L], statement.Select(l => l.CumulativeMicroCredits));
        Assert.All(statement, l => Assert.NotEqual(default, l.ClosedAt));
        Assert.Equal([1L], (await silo.Grains.GetGrain<ILedgerGrain>(0).GetStatementAsync(accounts[29])).Select(l => l.Epoch));
    }

    [Fact]
    public async Task Credits_racing_closes_are_all_settled_by_a_later_epoch()
    {
        await using var silo = await TestSilo.StartAsync(workers: false);
        var accounts = Addresses(25);
        var ledger = silo.Grains.GetGrain<ILedgerGrain>(0);
        using var stop = new CancellationTokenSource();
        var closes = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await ledger.CloseEpochAsync();
            }
        });
        for (var round = 0; round < 40; round++)
            await Task.WhenAll(accounts.Select((a, i) => silo.Grains.GetGrain<IRewardAccountGrain>(a).CreditAsync([new UnitCredit("race", round, "n", 1 + i)])));
        await stop.CancelAsync();
        await closes;
        while (await ledger.CloseEpochAsync() is not null) { }

        var views = await Task.WhenAll(accounts.Select(a => silo.Grains.GetGrain<IRewardAccountGrain>(a).GetAsync()));
        Assert.All(views, v => Assert.Equal(v.CumulativeMicroCredits, v.SettledCumulativeMicroCredits));
        var last = (await ledger.ListEpochsAsync(0, 1)).Single();
        Assert.Equal(views.Sum(v => v.CumulativeMicroCredits), last.TotalCumulativeMicroCredits);
        var epochs = await Task.WhenAll(Enumerable.Range(1, (int)last.Epoch).Select(n => ledger.GetEpochAsync(n)));
        Assert.Equal(last.TotalCumulativeMicroCredits, epochs.Sum(e => e!.EpochMicroCredits));
        Assert.Empty(await ledger.GetQuarantineAsync());
        output.WriteLine($"{last.Epoch} epochs closed while 1,000 credits landed");
    }

    [Fact]
    public async Task A_bad_entry_is_quarantined_and_everyone_else_settles()
    {
        await using var silo = await TestSilo.StartAsync(workers: false);
        var good = Addresses(5);
        var zero = "0x" + new string('0', 40);
        var malformed = "0xnot-an-address";
        var (big1, big2) = ("0x" + new string('b', 40), "0x" + new string('c', 40));
        await CreditAsync(silo, [.. good, zero, malformed], "seed", 0);
        var first = await CloseAsync(silo);
        Assert.Equal(5, first.ChangedAccounts);

        // One account the ledger holds at more than it now reports (its amount went down); two whose sum overflows.
        var shrinking = good[0];
        await silo.Grains.GetGrain<ILedgerShardGrain>(LedgerShards.Of(shrinking))
            .CommitAsync(new ShardCommit(first.Epoch + 1_000, [new SettlementEntry(shrinking, 1_000_000, 0)], [], []));
        await silo.Grains.GetGrain<IRewardAccountGrain>(shrinking).CreditAsync([new UnitCredit("more", 0, "n", 100)]);
        await silo.Grains.GetGrain<IRewardAccountGrain>(big1).CreditAsync([new UnitCredit("big", 0, "n", long.MaxValue / 2 + 1)]);
        await silo.Grains.GetGrain<IRewardAccountGrain>(big2).CreditAsync([new UnitCredit("big", 0, "n", long.MaxValue / 2 + 1)]);
        await CreditAsync(silo, good.Skip(1), "more", 0);

        var second = await CloseAsync(silo);
        Assert.Equal([.. good.Skip(1), big1], second.Entries.Select(e => e.Address));
        var quarantine = await silo.Grains.GetGrain<ILedgerGrain>(0).GetQuarantineAsync();
        Assert.Equal(new[] { malformed, zero, shrinking, big2 }.Order(StringComparer.Ordinal), quarantine.Select(q => q.Address));
        Assert.Contains("went down", quarantine.Single(q => q.Address == shrinking).Reason);
        Assert.Contains("overflow", quarantine.Single(q => q.Address == big2).Reason);
        Assert.Equal(1_000_000, quarantine.Single(q => q.Address == shrinking).SettledMicroCredits);

        // Still quarantined at the next close, and still nobody else is held up; the admin endpoint lists them.
        await CreditAsync(silo, good.Skip(1), "again", 0);
        Assert.Equal(4, (await CloseAsync(silo)).ChangedAccounts);
        var listed = await silo.Http.GetAsync<List<QuarantinedAccount>>("/epochs/quarantine");
        Assert.Equal(4, listed.Count);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await silo.CreateHttp(null).GetAsync("/epochs/quarantine")).StatusCode);
    }

    [Fact]
    public async Task A_failed_ledger_or_shard_write_loses_no_dirtiness()
    {
        var faults = new FaultyGrainStorage(seed: 3);
        await using var silo = await TestSilo.StartAsync(workers: false, settings: null, b => FaultyGrainStorage.Install(b, faults));
        var ledger = silo.Grains.GetGrain<ILedgerGrain>(0);
        var accounts = Addresses(20);

        // A dirty report that fails to persist fails the credit; its retry reports again.
        faults.FailNext(1, "ledgerdirty");
        await Assert.ThrowsAnyAsync<Exception>(() => silo.Grains.GetGrain<IRewardAccountGrain>(accounts[0]).CreditAsync([new UnitCredit("j", 0, "n", 100)]));
        await CreditAsync(silo, accounts, "j", 0);

        // The close's commit point fails: the ledger drops its activation and the next close records the same epoch.
        faults.FailNext(1, "ledger");
        await Assert.ThrowsAnyAsync<Exception>(() => ledger.CloseEpochAsync());
        var first = await CloseAsync(silo);
        Assert.Equal((1L, 20), (first.Epoch, first.ChangedAccounts));

        // Recorded, but a shard fails to apply it: the next close applies it first, then sees only what is new.
        await CreditAsync(silo, accounts.Take(10), "k", 0);
        faults.FailNext(1, "ledgershard");
        await Assert.ThrowsAnyAsync<Exception>(() => ledger.CloseEpochAsync());
        await CreditAsync(silo, accounts.Skip(15), "k", 0);
        var third = await CloseAsync(silo);
        Assert.Equal(3, third.Epoch);
        Assert.Equal(accounts.Skip(15), third.Entries.Select(e => e.Address));
        Assert.Null(await ledger.CloseEpochAsync());

        var views = await Task.WhenAll(accounts.Select(a => silo.Grains.GetGrain<IRewardAccountGrain>(a).GetAsync()));
        Assert.All(views, v => Assert.Equal(v.CumulativeMicroCredits, v.SettledCumulativeMicroCredits));
        Assert.Equal(views.Sum(v => v.CumulativeMicroCredits), third.TotalCumulativeMicroCredits);
    }

    private static List<string> Addresses(int count) => [.. Enumerable.Range(1, count).Select(i => "0x" + i.ToString("x40"))];

    private static Task CreditAsync(TestSilo silo, IEnumerable<string> accounts, string job, int unit) =>
        Task.WhenAll(accounts.Select(a => silo.Grains.GetGrain<IRewardAccountGrain>(a).CreditAsync([new UnitCredit(job, unit, "node-1/cpu-0", 100)])));

    private static async Task<EpochSettlement> CloseAsync(TestSilo silo) =>
        await silo.Grains.GetGrain<ILedgerGrain>(0).CloseEpochAsync() ?? throw new InvalidOperationException("nothing to close");

    private static async Task<int> LedgerSizeAsync(TestSilo silo) => await StoredSizeAsync<LedgerState>(silo, "ledger", silo.Grains.GetGrain<ILedgerGrain>(0).GetGrainId());

    private static async Task<int> ShardsSizeAsync(TestSilo silo)
    {
        var sizes = await Task.WhenAll(Enumerable.Range(0, LedgerShards.Count)
            .Select(i => StoredSizeAsync<LedgerShardState>(silo, "ledgershard", silo.Grains.GetGrain<ILedgerShardGrain>(i).GetGrainId())));
        return sizes.Sum();
    }

    /// <summary>What the grain's stored state takes in Orleans' binary serializer (the Redis value's size).</summary>
    private static async Task<int> StoredSizeAsync<T>(TestSilo silo, string stateName, GrainId grain) where T : new()
    {
        var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Store);
        var stored = new GrainState<T>(new T());
        await storage.ReadStateAsync(stateName, grain, stored);
        return silo.Services.GetRequiredService<Serializer>().SerializeToArray(stored.State).Length;
    }
}
