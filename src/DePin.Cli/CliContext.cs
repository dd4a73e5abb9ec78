namespace DePin.Cli;

/// <summary>Where the CLI writes and how it reaches the API; tests replace the writers and the HTTP handler.</summary>
public sealed class CliContext
{
    /// <summary>Environment variable holding the default API URL.</summary>
    public const string ApiEnvironmentVariable = "DEPIN_API";

    /// <summary>API URL used when neither <c>--api</c> nor <c>DEPIN_API</c> is given.</summary>
    public const string DefaultApi = "http://127.0.0.1:5080";

    /// <summary>Environment variable holding the API key (when <c>--api-key</c> is not given).</summary>
    public const string ApiKeyEnvironmentVariable = "DEPIN_API_KEY";

    /// <summary>Environment variable naming a file that holds the API key.</summary>
    public const string ApiKeyFileEnvironmentVariable = "DEPIN_API_KEY_FILE";

    /// <summary>Where a local silo writes its bootstrap keys (<c>Auth:KeysDirectory</c>'s default), relative to the current directory.</summary>
    public static readonly string DefaultKeysDirectory = Path.Combine(".run", "keys");

    /// <summary>Standard output (results, tables, JSON).</summary>
    public TextWriter Out { get; init; } = TextWriter.Null;

    /// <summary>Standard error (errors, progress and notes).</summary>
    public TextWriter Error { get; init; } = TextWriter.Null;

    /// <summary>Handler used for every HTTP request; null = a fresh <see cref="SocketsHttpHandler"/>. Not disposed by the CLI.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Whether <see cref="Out"/> is an interactive terminal (binary results are refused there).</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>Opens the raw standard output stream for binary results; null = binary results need <c>-o</c>.</summary>
    public Func<Stream>? OpenBinaryOutput { get; init; }

    /// <summary>Default for <c>--api</c>; null = <c>DEPIN_API</c> or <see cref="DefaultApi"/>.</summary>
    public string? ApiDefault { get; init; }

    /// <summary>Polling interval while waiting for jobs and readiness.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Timeout of one HTTP request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Directory of a local silo's bootstrap keys (<c>client.key</c>, <c>admin.key</c>); null = <see cref="DefaultKeysDirectory"/>.</summary>
    public string? KeysDirectory { get; init; }

    /// <summary>Reads an environment variable (<c>DEPIN_API_KEY</c>, <c>depin claim --private-key-env</c>...); tests replace it.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The context of the real process: console writers and streams, <c>DEPIN_API</c>.</summary>
    public static CliContext ForConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        OutputIsTerminal = !Console.IsOutputRedirected,
        OpenBinaryOutput = Console.OpenStandardOutput,
    };

    /// <summary>
    /// The API key for a command: <paramref name="option"/> (<c>--api-key</c>), else <c>DEPIN_API_KEY</c>, else the file named by
    /// <c>DEPIN_API_KEY_FILE</c>, else <c>client.key</c> (<c>admin.key</c> for admin commands) in <see cref="KeysDirectory"/> when
    /// present; null when there is none. Throws <see cref="IOException"/> when a named file cannot be read.
    /// </summary>
    internal string? ResolveApiKey(string? option, bool admin)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option.Trim();
        if (GetEnvironmentVariable(ApiKeyEnvironmentVariable) is { } env && !string.IsNullOrWhiteSpace(env)) return env.Trim();
        if (GetEnvironmentVariable(ApiKeyFileEnvironmentVariable) is { } file && !string.IsNullOrWhiteSpace(file))
        {
            try
            {
                return File.ReadAllText(file.Trim()).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"cannot read the API key file '{file.Trim()}' named by ${ApiKeyFileEnvironmentVariable}: {ex.Message}", ex);
            }
        }
        var local = Path.Combine(KeysDirectory ?? DefaultKeysDirectory, admin ? "admin.key" : "client.key");
        try
        {
            return File.Exists(local) ? File.ReadAllText(local).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // a local key we may not read is no key
        }
    }

    internal string ResolveApiDefault() =>
        ApiDefault
        ?? (Environment.GetEnvironmentVariable(ApiEnvironmentVariable) is { Length: > 0 } env ? env : DefaultApi);
}
