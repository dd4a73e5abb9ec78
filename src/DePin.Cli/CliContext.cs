namespace DePin.Cli;

/// <summary>Where the CLI writes and how it reaches the API; tests replace the writers and the HTTP handler.</summary>
public sealed class CliContext
{
    /// <summary>Environment variable holding the default API URL.</summary>
    public const string ApiEnvironmentVariable = "DEPIN_API";

    /// <summary>API URL used when neither <c>--api</c> nor <c>DEPIN_API</c> is given.</summary>
    public const string DefaultApi = "http://127.0.0.1:5080";

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

    /// <summary>Reads an environment variable (<c>depin claim --private-key-env</c>); tests replace it.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The context of the real process: console writers and streams, <c>DEPIN_API</c>.</summary>
    public static CliContext ForConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        OutputIsTerminal = !Console.IsOutputRedirected,
        OpenBinaryOutput = Console.OpenStandardOutput,
    };

    internal string ResolveApiDefault() =>
        ApiDefault
        ?? (Environment.GetEnvironmentVariable(ApiEnvironmentVariable) is { Length: > 0 } env ? env : DefaultApi);
}
