using System.ComponentModel.DataAnnotations;

namespace DePin.Grains;

/// <summary>Scheduler settings, bound from the <c>Scheduler</c> configuration section.</summary>
public sealed class SchedulerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Scheduler";

    /// <summary>Number of work-queue shards. Every silo and worker must agree on it.</summary>
    [Range(1, 4096)] public int QueueShards { get; set; } = 8;

    /// <summary>Consecutive units of one job that go to the same shard (keeps enqueue and lease batches large).</summary>
    [Range(1, 65536)] public int UnitsPerShardChunk { get; set; } = 256;

    /// <summary>
    /// How long a node holds a leased unit before it returns to the queue, unless renewed. Live workers renew their
    /// leases every <c>Worker:HeartbeatInterval</c> (keep it at most a third of this); a node that disappears has its
    /// units leased again within <c>LeaseDuration + LeaseSweepInterval</c> (9 s by default). See docs/cluster.md.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>How often each shard looks for expired leases.</summary>
    public TimeSpan LeaseSweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Failed or expired attempts after which a unit (and its job) fails.</summary>
    [Range(1, 100)] public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How often a job retries credits its operators' accounts did not acknowledge. A reminder (at least a minute) also
    /// revives a job that went away with credits still owed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.01", "01:00:00")]
    public TimeSpan CreditRetryInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// An unfinished job that made no progress for this long checks that each of its units is somewhere (stored, or
    /// held by a shard) and queues again those found nowhere. Checked every <see cref="ReconcileInterval"/> while the
    /// job is active, and by the job directory's sweep (every <see cref="JobSweepInterval"/>) after its silo went away.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.01", "1.00:00:00")]
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an active unfinished job looks at its progress (see <see cref="ReconcileAfter"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.01", "1.00:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Times a job may find units lost and queue them again before it fails with the reason.</summary>
    [Range(1, 1000)] public int MaxReconciles { get; set; } = 20;

    /// <summary>
    /// How long a finished job and its result are kept; after that <c>GET /jobs/{id}</c> answers 410 Gone. The job
    /// directory's sweep deletes them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan JobRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often each job directory shard sweeps its jobs (reconcile the unfinished, delete the expired). A
    /// reminder: at least a minute.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan JobSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Largest redundancy a client may ask for.</summary>
    [Range(1, 16)] public int MaxRedundancy { get; set; } = 5;

    /// <summary>
    /// Node liveness: a node is online when it sent a heartbeat within this window. Idle community agents check in
    /// once per long poll (<c>NodeGateway:MaxLongPoll</c>, 20 s), so keep this above it.
    /// </summary>
    public TimeSpan NodeOnlineWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The queue shard that owns unit <paramref name="index"/> of <paramref name="jobId"/>: a job's units go to
    /// consecutive shards in chunks of <see cref="UnitsPerShardChunk"/>, starting at the job's hash.</summary>
    public int ShardOf(string jobId, int index) =>
        (DePin.Abstractions.ShardHash.Bucket(jobId, QueueShards) + index / UnitsPerShardChunk) % QueueShards;
}

/// <summary>Ledger settings, bound from the <c>Ledger</c> configuration section.</summary>
public sealed class LedgerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Ledger";

    /// <summary>How often the ledger closes an epoch. Zero or negative disables the timer (epochs close on request only).</summary>
    public TimeSpan EpochPeriod { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Grain storage names used by the grains.</summary>
public static class StorageNames
{
    /// <summary>The one storage provider all DePin grain state lives in.</summary>
    public const string Store = "depin";
}
