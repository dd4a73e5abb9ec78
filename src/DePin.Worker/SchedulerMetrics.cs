using System.Diagnostics.Metrics;
using DePin.Abstractions.Scheduling;

namespace DePin.Worker;

/// <summary>Worker-side metrics (System.Diagnostics.Metrics; exported by OpenTelemetry, read by the benchmark).</summary>
public static class SchedulerMetrics
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "DePin.Scheduler";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("depin.unit.queue_wait", "ms", "Time from enqueue to lease (submit-to-start)");
    private static readonly Histogram<double> KernelTime = Meter.CreateHistogram<double>("depin.unit.kernel_time", "ms", "Kernel execution time per unit");
    private static readonly Counter<long> Reported = Meter.CreateCounter<long>("depin.units.reported", "units", "Units whose results were reported");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("depin.units.failed", "units", "Units whose kernel failed");

    internal static void RecordLeased(IReadOnlyList<WorkUnitLease> leases)
    {
        if (!QueueWait.Enabled) return;
        var now = DateTimeOffset.UtcNow;
        foreach (var lease in leases) QueueWait.Record((now - lease.EnqueuedAt).TotalMilliseconds);
    }

    internal static void RecordReported(UnitResult[] results)
    {
        Reported.Add(results.Length);
        var failed = 0;
        foreach (var r in results)
        {
            if (r.Error is not null) failed++;
            if (KernelTime.Enabled) KernelTime.Record(r.ElapsedMs);
        }
        if (failed > 0) Failed.Add(failed);
    }
}
