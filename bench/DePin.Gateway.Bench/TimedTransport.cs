using System.Diagnostics;
using DePin.Worker;

namespace DePin.Gateway.Bench;

/// <summary>
/// Stopwatch sampling of a worker's transport: how long its lease and report calls take as the worker sees them, and
/// how many leases came back empty (a worker waiting for work rather than working).
/// </summary>
sealed class TimedTransport(IWorkTransport inner, TransportTimes times) : IWorkTransport
{
    public async Task<LeaseBatch> LeaseAsync(int max, TimeSpan wait, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var batch = await inner.LeaseAsync(max, wait, cancellationToken);
        times.Lease(Stopwatch.GetElapsedTime(start), batch.Leases.Count);
        return batch;
    }

    public async Task ReportAsync(LeaseBatch batch, IReadOnlyList<DePin.Abstractions.Scheduling.UnitResult> results, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await inner.ReportAsync(batch, results, cancellationToken);
        times.Report(Stopwatch.GetElapsedTime(start));
    }

    public Task HeartbeatAsync(IReadOnlyCollection<LeaseBatch> held, CancellationToken cancellationToken) => inner.HeartbeatAsync(held, cancellationToken);
}

/// <summary>Totals of <see cref="TimedTransport"/> over all workers of a run.</summary>
sealed class TransportTimes
{
    private long _leases, _emptyLeases, _leaseTicks, _leasedUnits, _reports, _reportTicks;

    public void Lease(TimeSpan elapsed, int units)
    {
        Interlocked.Increment(ref _leases);
        if (units == 0) Interlocked.Increment(ref _emptyLeases);
        Interlocked.Add(ref _leasedUnits, units);
        Interlocked.Add(ref _leaseTicks, elapsed.Ticks);
    }

    public void Report(TimeSpan elapsed)
    {
        Interlocked.Increment(ref _reports);
        Interlocked.Add(ref _reportTicks, elapsed.Ticks);
    }

    public void Reset() => _leases = _emptyLeases = _leaseTicks = _leasedUnits = _reports = _reportTicks = 0;

    public override string ToString() =>
        $"{_leases} leases ({_emptyLeases} empty, {(double)_leasedUnits / Math.Max(1, _leases - _emptyLeases):F0} units per full one), " +
        $"mean lease call {TimeSpan.FromTicks(_leaseTicks / Math.Max(1, _leases)).TotalMilliseconds:F1} ms, " +
        $"{_reports} reports, mean report call {TimeSpan.FromTicks(_reportTicks / Math.Max(1, _reports)).TotalMilliseconds:F1} ms";
}
