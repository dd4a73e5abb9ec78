using System.Globalization;
using System.Text.Json;
using DePin.Compute.Catalog;

namespace DePin.Compute.Internal;

/// <summary>Strict reader of a kernel's JSON parameters; every failure is a <see cref="KernelArgumentException"/>.</summary>
internal sealed class ParamReader
{
    private readonly string _kernel;
    private readonly Dictionary<string, JsonElement> _fields = new(StringComparer.Ordinal);

    public ParamReader(string kernel, JsonElement root, params string[] allowed)
    {
        _kernel = kernel;
        if (root.ValueKind != JsonValueKind.Object)
            throw Bad($"parameters must be a JSON object, got {Describe(root.ValueKind)}");
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
                throw Bad($"unknown field '{Clip(property.Name)}'; allowed: {string.Join(", ", allowed)}");
            if (!_fields.TryAdd(property.Name, property.Value))
                throw Bad($"duplicate field '{Clip(property.Name)}'");
        }
    }

    public KernelArgumentException Bad(string message) => new($"{_kernel}: {message}");

    public bool Has(string name) => _fields.ContainsKey(name);

    /// <summary>A required (or defaulted) finite number.</summary>
    public double Number(string name, double? defaultValue = null)
    {
        if (!_fields.TryGetValue(name, out var e))
            return defaultValue ?? throw Bad($"missing required field '{name}' (a number)");
        if (e.ValueKind != JsonValueKind.Number)
            throw Bad($"field '{name}' must be a number, got {Describe(e.ValueKind)}");
        if (!e.TryGetDouble(out double v) || !double.IsFinite(v))
            throw Bad($"field '{name}' must be a finite number");
        return v;
    }

    /// <summary>A required (or defaulted) integer in [min, max]; integral numbers written with an exponent (1e6) are accepted.</summary>
    public long Integer(string name, long min, long max, long? defaultValue = null)
    {
        if (!_fields.TryGetValue(name, out var e))
            return defaultValue ?? throw Bad($"missing required field '{name}' (an integer {min}..{max})");
        if (e.ValueKind != JsonValueKind.Number)
            throw Bad($"field '{name}' must be an integer, got {Describe(e.ValueKind)}");
        long v;
        if (!e.TryGetInt64(out v))
        {
            if (!e.TryGetDouble(out double d) || !double.IsFinite(d) || Math.Floor(d) != d)
                throw Bad($"field '{name}' must be an integer in {min}..{max}");
            if (d < min || d > max)
                throw Bad($"field '{name}' must be in {min}..{max}, got {d.ToString("R", CultureInfo.InvariantCulture)}");
            v = (long)d;
        }
        if (v < min || v > max)
            throw Bad($"field '{name}' must be in {min}..{max}, got {v}");
        return v;
    }

    /// <summary>A required non-empty array of finite numbers that are finite as float32, at most <paramref name="maxLength"/> long.</summary>
    public float[] FloatArray(string name, long maxLength, string lengthHint)
    {
        if (!_fields.TryGetValue(name, out var e))
            throw Bad($"missing required field '{name}' (an array of numbers)");
        if (e.ValueKind != JsonValueKind.Array)
            throw Bad($"field '{name}' must be an array of numbers, got {Describe(e.ValueKind)}");
        int length = e.GetArrayLength();
        if (length == 0)
            throw Bad($"field '{name}' must not be empty");
        if (length > maxLength)
            throw Bad($"field '{name}' has {length} elements; {lengthHint}");
        var result = new float[length];
        int i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number)
                throw Bad($"{name}[{i}] must be a number, got {Describe(item.ValueKind)}");
            if (!item.TryGetDouble(out double d) || !double.IsFinite(d))
                throw Bad($"{name}[{i}] must be a finite number");
            float f = (float)d;
            if (!float.IsFinite(f))
                throw Bad($"{name}[{i}] is outside the float32 range");
            result[i++] = f;
        }
        return result;
    }

    /// <summary>A required (or defaulted) string that must be one of <paramref name="allowed"/> (ordinal).</summary>
    public string Choice(string name, string? defaultValue, params string[] allowed)
    {
        if (!_fields.TryGetValue(name, out var e))
            return defaultValue ?? throw Bad($"missing required field '{name}' (one of {string.Join(", ", allowed)})");
        if (e.ValueKind != JsonValueKind.String)
            throw Bad($"field '{name}' must be a string, got {Describe(e.ValueKind)}");
        string v = e.GetString()!;
        if (Array.IndexOf(allowed, v) < 0)
            throw Bad($"field '{name}' must be one of {string.Join(", ", allowed)}, got '{Clip(v)}'");
        return v;
    }

    /// <summary>A required base64 string decoded to bytes, at most <paramref name="maxBytes"/> long.</summary>
    public byte[] Base64(string name, long maxBytes)
    {
        if (!_fields.TryGetValue(name, out var e))
            throw Bad($"missing required field '{name}' (base64 bytes)");
        if (e.ValueKind != JsonValueKind.String)
            throw Bad($"field '{name}' must be a base64 string, got {Describe(e.ValueKind)}");
        string s = e.GetString()!;
        if (s.Length / 4 * 3 > maxBytes + 3)
            throw Bad($"field '{name}' decodes to more than {maxBytes} bytes");
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            throw Bad($"field '{name}' is not valid base64");
        }
    }

    /// <summary>Length of an array field (for size checks before parsing it).</summary>
    public int ArrayLength(string name)
    {
        if (!_fields.TryGetValue(name, out var e))
            throw Bad($"missing required field '{name}' (an array of numbers)");
        if (e.ValueKind != JsonValueKind.Array)
            throw Bad($"field '{name}' must be an array of numbers, got {Describe(e.ValueKind)}");
        return e.GetArrayLength();
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";
}

/// <summary>Parses the canonical parameters that the kernel itself wrote in Plan (trusted, but still checked).</summary>
internal static class Canonical
{
    public static JsonDocument Parse(string canonical) => JsonDocument.Parse(canonical);

    public static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
