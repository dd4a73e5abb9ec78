using DePin.Abstractions.Scheduling;
using DePin.Grains.Scheduling;

namespace DePin.Tests.Scheduling;

/// <summary>
/// The unit book on its own, with no silo and an explicit clock: lease rules, held counts and ready signals.
/// Units are montecarlo-pi units, whose outputs are any 16 bytes, so results need no kernel run.
/// </summary>
public sealed class UnitBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LeaseFor = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_foreign_or_unknown_lease_id_changes_nothing()
    {
        var book = BookWith(units: 2);
        var la = Assert.Single(book.Lease(Request("a", 1), T0 + LeaseFor, new()));
        var lb = Assert.Single(book.Lease(Request("b", 1), T0 + LeaseFor, new()));

        var changes = new ShardChanges();
        var outcome = book.Report("b", [Result(la), Result(la) with { LeaseId = lb.LeaseId }, Error(la), Error(la) with { LeaseId = 1 }], changes);
        Assert.Equal(new ReportOutcome(0, 0, 4, 0), outcome);
        Assert.True(changes.IsEmpty);
        Assert.Equal((2, 1, 1), (book.Leased, book.HeldBy("a"), book.HeldBy("b")));

        Assert.Equal(1, book.Report("a", [Result(la)], new()).Verified);
        Assert.Equal(1, book.Report("b", [Result(lb)], new()).Verified);
        Assert.Equal(0, book.Leased);
    }

    [Fact]
    public void A_nodes_error_counts_once_and_the_unit_never_goes_back_to_it()
    {
        var book = BookWith(units: 1, maxAttempts: 2);
        var lease = Assert.Single(book.Lease(Request("a", 10), T0 + LeaseFor, new()));

        var changes = new ShardChanges();
        Assert.Equal(new ReportOutcome(0, 0, 9, 1), book.Report("a", [.. Enumerable.Repeat(Error(lease), 10)], changes));
        Assert.Empty(changes.Failures);
        var stored = Assert.Single(changes.UpsertUnits);
        Assert.Equal(["a"], stored.FailedNodes!);
        Assert.Empty(book.Lease(Request("a", 10), T0 + LeaseFor, new()));

        // The second distinct failure reaches MaxAttempts = 2.
        var retry = Assert.Single(book.Lease(Request("b", 10), T0 + LeaseFor, new()));
        Assert.Equal(2, retry.Attempt);
        changes = new ShardChanges();
        book.Report("b", [Error(retry)], changes);
        Assert.Equal(0, Assert.Single(changes.Failures).Index);
    }

    [Fact]
    public void Failed_nodes_survive_a_reload_from_the_store()
    {
        var book = BookWith(units: 1);
        var lease = Assert.Single(book.Lease(Request("a", 10), T0 + LeaseFor, new()));
        var changes = new ShardChanges();
        book.Report("a", [Error(lease)], changes);

        var reloaded = new UnitBook(maxAttempts: 5, firstLeaseId: 1000);
        reloaded.Load(new ShardSnapshot([Job(1)], changes.UpsertUnits));
        Assert.Empty(reloaded.Lease(Request("a", 10), T0 + LeaseFor, new()));
        Assert.Single(reloaded.Lease(Request("b", 10), T0 + LeaseFor, new()));
    }

    [Fact]
    public void Held_counts_follow_report_expiry_verification_and_cancel()
    {
        var book = BookWith(units: 6);
        var held = book.Lease(Request("a", 10, maxHeld: 3), T0 + LeaseFor, new());
        Assert.Equal(3, held.Count);
        Assert.Empty(book.Lease(Request("a", 10, maxHeld: 3), T0 + LeaseFor, new()));

        book.Report("a", [Result(held[0]), Error(held[1])], new()); // verified, failed: two slots back
        Assert.Equal(1, book.HeldBy("a"));
        Assert.Equal(2, book.Lease(Request("a", 10, maxHeld: 3), T0 + LeaseFor, new()).Count);

        Assert.Equal(3, book.Expire(T0 + LeaseFor, new()));
        Assert.Equal(0, book.HeldBy("a"));

        Assert.Equal(3, book.Lease(Request("a", 10, maxHeld: 3), T0 + 2 * LeaseFor, new()).Count);
        book.Cancel("job", new());
        Assert.Equal((0, 0), (book.HeldBy("a"), book.Leased));
    }

    [Fact]
    public void A_late_answer_on_a_lapsed_lease_counts_once_while_the_unit_is_pending()
    {
        var book = BookWith(units: 1);
        var lost = Assert.Single(book.Lease(Request("a", 10), T0 + LeaseFor, new()));
        Assert.Equal(1, book.Expire(T0 + LeaseFor, new()));
        var retry = Assert.Single(book.Lease(Request("b", 10), T0 + 2 * LeaseFor, new()));

        Assert.Equal(1, book.Report("a", [Result(lost)], new()).Verified);
        Assert.Equal(0, book.HeldBy("b")); // b's lease ended with the verification
        Assert.Equal(1, book.Report("b", [Result(retry)], new()).Ignored);
        Assert.Equal(1, book.Report("a", [Result(lost)], new()).Ignored);
    }

    [Fact]
    public void Ready_work_is_signalled_once_per_change()
    {
        var book = new UnitBook(maxAttempts: 5, firstLeaseId: 0);
        Assert.False(book.TakeReadyChanged());
        book.Enqueue(Batch(units: 2), T0, new());
        Assert.True(book.TakeReadyChanged());
        Assert.False(book.TakeReadyChanged());

        var leases = book.Lease(Request("a", 10), T0 + LeaseFor, new());
        Assert.False(book.TakeReadyChanged());
        book.Report("a", [Error(leases[0])], new()); // a failed attempt: ready again
        Assert.True(book.TakeReadyChanged());
        book.Expire(T0 + LeaseFor, new()); // the other lease expired
        Assert.True(book.TakeReadyChanged());
    }

    private static UnitBook BookWith(int units, int maxAttempts = 5)
    {
        var book = new UnitBook(maxAttempts, firstLeaseId: 100);
        book.Enqueue(Batch(units), T0, new());
        book.TakeReadyChanged();
        return book;
    }

    private static ShardJob Job(int units) =>
        new("job", "montecarlo-pi", $$"""{"samples":{{units * 10}},"units":{{units}},"seed":1}""", units, 1, 0, 1);

    private static UnitBatch Batch(int units)
    {
        var job = Job(units);
        return new UnitBatch
        {
            JobId = job.JobId,
            Kernel = job.Kernel,
            CanonicalParameters = job.CanonicalParameters,
            UnitCount = units,
            Units = [.. Enumerable.Range(0, units).Select(i => new UnitInput(i, []))],
        };
    }

    private static LeaseRequest Request(string node, int max, int maxHeld = 0) => new() { NodeId = node, Max = max, MaxHeld = maxHeld };

    private static UnitResult Result(WorkUnitLease lease)
    {
        var output = new byte[16];
        output[0] = 7;
        return new UnitResult { LeaseId = lease.LeaseId, Unit = lease.Unit, Output = output, Digest = ResultDigest.Of(output) };
    }

    private static UnitResult Error(WorkUnitLease lease) => new() { LeaseId = lease.LeaseId, Unit = lease.Unit, Error = "device lost" };
}
