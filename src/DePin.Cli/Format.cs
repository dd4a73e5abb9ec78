using System.Globalization;
using System.Text;
using System.Text.Json;
using DePin.Client;

namespace DePin.Cli;

/// <summary>Human-friendly formatting helpers (invariant culture).</summary>
internal static class Format
{
    internal static readonly JsonSerializerOptions IndentedJson = new(DePinJson.Options) { WriteIndented = true };

    internal static string Json<T>(T value) => JsonSerializer.Serialize(value, IndentedJson);

    /// <summary>1 credit = 10^6 micro-credits.</summary>
    internal static string Credits(long micro) =>
        (micro / 1_000_000m).ToString("0.000000", CultureInfo.InvariantCulture) + " credits";

    /// <summary>Token base units (18 decimals) as a decimal token amount, trailing zeros trimmed: 1500000000000000000 → "1.5".</summary>
    internal static string TokenAmount(System.Numerics.BigInteger wei)
    {
        var sign = wei.Sign < 0 ? "-" : "";
        var abs = System.Numerics.BigInteger.Abs(wei);
        var unit = System.Numerics.BigInteger.Pow(10, 18);
        var whole = System.Numerics.BigInteger.DivRem(abs, unit, out var frac);
        var fraction = frac.ToString(CultureInfo.InvariantCulture).PadLeft(18, '0').TrimEnd('0');
        return sign + whole.ToString(CultureInfo.InvariantCulture) + (fraction.Length > 0 ? "." + fraction : "");
    }

    /// <summary><see cref="TokenAmount"/> with the unit: "1.5 tokens".</summary>
    internal static string Tokens(System.Numerics.BigInteger wei) => TokenAmount(wei) + " tokens";

    internal static string Time(DateTimeOffset? t) =>
        t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    internal static string Duration(TimeSpan d) =>
        d.TotalSeconds < 1 ? $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms"
        : d.TotalMinutes < 1 ? $"{d.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
        : $"{(int)d.TotalMinutes} min {d.Seconds} s";

    internal static string Percent(double fraction) => (fraction * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>Estimated work: "12.5 GFLOP", small amounts with more digits.</summary>
    internal static string Gflop(double gflop) => Number(gflop, gflop >= 100 ? "0" : gflop >= 1 ? "0.0" : "0.####") + " GFLOP";

    /// <summary>"device Cuda or OpenCL, memory >= 8.0 GiB, SGEMM >= 100 GF/s"; "any node" when nothing is constrained.</summary>
    internal static string Requirements(JobRequirements r)
    {
        var parts = new List<string>();
        if (r.DeviceKinds.Count > 0) parts.Add("device " + string.Join(" or ", r.DeviceKinds));
        if (r.MinMemoryBytes is { } m) parts.Add($"memory >= {Bytes(m)}");
        if (r.MinGflops is { } g) parts.Add($"SGEMM >= {Number(g, "0.###")} GF/s");
        return parts.Count == 0 ? "any node" : string.Join(", ", parts);
    }

    /// <summary>Parses a byte count: "8589934592", or with a binary suffix "512MiB", "8GiB", "1TiB" (also "KB"/"MB"/"GB"/"TB"/"K"/"M"/"G"/"T", read as binary).</summary>
    internal static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        (string suffix, int shift)[] units = [("KiB", 10), ("MiB", 20), ("GiB", 30), ("TiB", 40), ("KB", 10), ("MB", 20), ("GB", 30), ("TB", 40),
            ("K", 10), ("M", 20), ("G", 30), ("T", 40), ("B", 0)];
        int shiftBy = 0;
        foreach (var (suffix, shift) in units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[..^suffix.Length].TrimEnd();
                shiftBy = shift;
                break;
            }
        }
        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n < 0 || n > long.MaxValue) return false;
        var value = n * (1L << shiftBy);
        if (value > long.MaxValue || value != decimal.Truncate(value)) return false;
        bytes = (long)value;
        return true;
    }

    internal static string Number(double v, string format = "0.###") => v.ToString(format, CultureInfo.InvariantCulture);

    internal static string ShortId(string id) => id.Length > 12 ? id[..12] : id;

    internal static string ProgressLine(JobInfo job) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{job.Kernel,-14} {ShortId(job.JobId),-12} {job.Status,-9} {$"{job.UnitsCompleted}/{job.UnitCount} units",-15} {ProgressBar(job)} {Percent(Fraction(job)),4}");

    internal static double Fraction(JobInfo job) => job.UnitCount == 0 ? 0 : (double)job.UnitsCompleted / job.UnitCount;

    private static string ProgressBar(JobInfo job)
    {
        const int width = 20;
        int filled = (int)Math.Round(Fraction(job) * width);
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }

    /// <summary>Parses "60s", "500ms", "2m", "1h", "90" (seconds) or "hh:mm:ss".</summary>
    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var s = text.Trim().ToLowerInvariant();
        (string suffix, double factorMs)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, factor) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(s[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
            {
                value = TimeSpan.FromMilliseconds(n * factor);
                return true;
            }
        }
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs) && secs >= 0)
        {
            value = TimeSpan.FromSeconds(secs);
            return true;
        }
        return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    /// <summary>Key/value lines, keys padded to a column.</summary>
    internal static void WriteFields(TextWriter w, IEnumerable<(string Key, string? Value)> fields)
    {
        var list = fields.Where(f => f.Value is not null).ToList();
        int width = list.Count == 0 ? 0 : list.Max(f => f.Key.Length) + 1;
        foreach (var (k, v) in list) w.WriteLine($"{(k + ":").PadRight(width)} {v}");
    }
}

/// <summary>A plain text table: left-aligned columns separated by two spaces; numeric columns right-aligned.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];
    private readonly HashSet<int> _right = [];

    internal TextTable AlignRight(params int[] columns)
    {
        foreach (var c in columns) _right.Add(c);
        return this;
    }

    internal void Add(params string?[] cells) => _rows.Add(cells.Select(c => c ?? "-").ToArray());

    internal int Count => _rows.Count;

    internal void Write(TextWriter w)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        WriteRow(w, headers, widths);
        WriteRow(w, widths.Select(n => new string('-', n)).ToArray(), widths);
        foreach (var r in _rows) WriteRow(w, r, widths);
    }

    private void WriteRow(TextWriter w, string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < widths.Length; i++)
        {
            var cell = i < cells.Length ? cells[i] : "";
            if (i > 0) sb.Append("  ");
            sb.Append(_right.Contains(i) ? cell.PadLeft(widths[i]) : i == widths.Length - 1 ? cell : cell.PadRight(widths[i]));
        }
        w.WriteLine(sb.ToString().TrimEnd());
    }
}
