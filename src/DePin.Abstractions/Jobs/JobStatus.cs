namespace DePin.Abstractions.Jobs;

/// <summary>Lifecycle of a job: Submitted → Running → Completed | Failed | Cancelled.</summary>
public enum JobStatus
{
    /// <summary>No such job (never submitted).</summary>
    Unknown = 0,
    /// <summary>Accepted and queued; no unit has started.</summary>
    Submitted = 1,
    /// <summary>At least one unit has been leased by a node.</summary>
    Running = 2,
    /// <summary>Every unit verified; the result is assembled.</summary>
    Completed = 3,
    /// <summary>A unit failed beyond its attempt budget, or results could not be assembled.</summary>
    Failed = 4,
    /// <summary>Cancelled by the client; pending units were withdrawn.</summary>
    Cancelled = 5,
}

/// <summary>Helpers on <see cref="JobStatus"/>.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for Completed, Failed and Cancelled.</summary>
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}
