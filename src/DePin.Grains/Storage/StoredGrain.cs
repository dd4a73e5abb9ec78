namespace DePin.Grains.Storage;

/// <summary>
/// A grain whose memory must never run ahead of its storage. When a write fails (it may or may not have landed), the
/// grain calls <see cref="Poison"/>: the activation is dropped, and until it is gone every call to it is refused with
/// <see cref="ActivationReplacedException"/>, so that no caller (a shard retrying a delivery, a job retrying a credit)
/// meets memory that storage does not hold; its retry reaches a fresh activation that reads what was stored. Timers check
/// <see cref="Poisoned"/> themselves (they are not calls).
/// </summary>
public abstract class StoredGrain : Grain, IIncomingGrainCallFilter
{
    /// <summary>A write failed: this activation is being replaced.</summary>
    protected bool Poisoned { get; private set; }

    /// <summary>Refuses every further call and drops the activation.</summary>
    protected void Poison()
    {
        Poisoned = true;
        DeactivateOnIdle();
    }

    Task IIncomingGrainCallFilter.Invoke(IIncomingGrainCallContext context) =>
        Poisoned
            ? Task.FromException(new ActivationReplacedException($"{GetType().Name} {this.GetGrainId()}: a storage write failed; this activation is being replaced, retry"))
            : context.Invoke();
}

/// <summary>A grain activation refused a call because a write of its had failed; the caller retries (a new activation answers).</summary>
[GenerateSerializer, Alias("depin.ActivationReplacedException")]
public sealed class ActivationReplacedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ActivationReplacedException(string message) : base(message) { }
}
