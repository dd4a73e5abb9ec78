using System.Globalization;

namespace DePin.Grains.Jobs;

/// <summary>
/// Job ids are UUIDv7 (32 hex digits): random, unguessable, and carrying their creation time, so a job deleted after its
/// retention can be told apart from one that never existed (410 Gone instead of 404) without keeping a tombstone.
/// </summary>
public static class JobIds
{
    /// <summary>A new job id created at <paramref name="now"/>.</summary>
    public static string New(DateTimeOffset now) => Guid.CreateVersion7(now).ToString("N");

    /// <summary>The creation time of a UUIDv7 job id; false for any other id.</summary>
    public static bool TryGetCreatedAt(string jobId, out DateTimeOffset createdAt)
    {
        createdAt = default;
        if (!Guid.TryParseExact(jobId, "N", out var id) || id.Version != 7) return false;
        var ms = long.Parse(jobId.AsSpan(0, 12), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        createdAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    /// <summary>True when a job with this id, missing now, was created longer ago than the retention: it ran and was deleted.</summary>
    public static bool IsPastRetention(string jobId, TimeSpan retention, DateTimeOffset now) =>
        TryGetCreatedAt(jobId, out var createdAt) && now - createdAt >= retention;
}
