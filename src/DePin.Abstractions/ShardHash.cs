namespace DePin.Abstractions;

/// <summary>
/// A hash that is the same in every process (unlike <see cref="string.GetHashCode()"/>, which is randomised per
/// process): shard choices must agree across silos and restarts. FNV-1a, 32 bits.
/// </summary>
public static class ShardHash
{
    /// <summary>FNV-1a of the UTF-16 code units of <paramref name="value"/>.</summary>
    public static uint Of(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ (byte)c) * 16777619u;
            hash = (hash ^ (byte)(c >> 8)) * 16777619u;
        }
        return hash;
    }

    /// <summary>The bucket of <paramref name="value"/> among <paramref name="buckets"/>.</summary>
    public static int Bucket(string value, int buckets) => (int)(Of(value) % (uint)buckets);
}

/// <summary>
/// The job and node directories are sharded by a stable hash of the id, so listing state is spread over many small
/// grains whose writes stay small. The count is fixed: every silo must agree on it.
/// </summary>
public static class DirectoryShards
{
    /// <summary>Number of directory shards (job and node directories each).</summary>
    public const int Count = 64;

    /// <summary>The shard an id belongs to.</summary>
    public static int Of(string id) => ShardHash.Bucket(id, Count);
}
