namespace DePin.Tests.Infrastructure;

/// <summary>Awaits a condition instead of sleeping: polls until it holds or the timeout passes.</summary>
public static class Eventually
{
    /// <summary>Returns the first value that satisfies <paramref name="done"/>; throws with <paramref name="what"/> on timeout.</summary>
    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var delay = TimeSpan.FromMilliseconds(5);
        T value;
        while (!done(value = await probe()))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}; last value: {value}");
            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 100));
        }
        return value;
    }
}
