using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net.Http;
using System.Net.Sockets;
using DePin.Client;

namespace DePin.Cli;

/// <summary>
/// The <c>depin</c> command line, callable in-process: <see cref="RunAsync(string[], CliContext, CancellationToken)"/> parses,
/// runs and maps every expected failure to a one-line message and an exit code (no stack traces).
/// </summary>
public static partial class Cli
{
    /// <summary>Success.</summary>
    public const int ExitOk = 0;
    /// <summary>The API refused the request (problem+json), a job failed, or the input was wrong.</summary>
    public const int ExitError = 1;
    /// <summary>The API could not be reached (connection refused, DNS, timeout, not ready in time).</summary>
    public const int ExitUnreachable = 2;
    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int ExitCancelled = 130;

    /// <summary>Runs the CLI with the given writers; the API default comes from <c>DEPIN_API</c>.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default) =>
        RunAsync(args, new CliContext { Out = stdout, Error = stderr }, cancellationToken);

    /// <summary>Runs the CLI in <paramref name="context"/> and returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        var root = BuildRootCommand(context);
        var parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            ProcessTerminationTimeout = null, // Program.cs owns Ctrl+C and passes the token.
        };
        return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Global options shared by every command.</summary>
    internal sealed record GlobalOptions(Option<string> Api, Option<bool> Json, Option<string?> ApiKey);

    /// <summary>Builds the command tree (exposed for tests and documentation).</summary>
    public static RootCommand BuildRootCommand(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var api = new Option<string>("--api")
        {
            Description = $"DePin API base URL (default: ${CliContext.ApiEnvironmentVariable} or {CliContext.DefaultApi})",
            DefaultValueFactory = _ => context.ResolveApiDefault(),
            Recursive = true,
            HelpName = "url",
        };
        api.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (!TryParseApi(value, out _))
                r.AddError($"'{value}' is not an http(s) URL for --api (example: {CliContext.DefaultApi}).");
        });
        var json = new Option<bool>("--json") { Description = "Machine-readable JSON output", Recursive = true };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = $"API key (dpk_…; default: ${CliContext.ApiKeyEnvironmentVariable}, the file named by ${CliContext.ApiKeyFileEnvironmentVariable}, "
                + "else .run/keys/client.key, or .run/keys/admin.key for admin commands, when present)",
            Recursive = true,
            HelpName = "key",
        };
        var g = new GlobalOptions(api, json, apiKey);

        var root = new RootCommand("depin: submit GPU compute jobs to a DePin.Orleans cluster, follow them, fetch results, inspect nodes and earnings.");
        root.Options.Add(api);
        root.Options.Add(json);
        root.Options.Add(apiKey);
        root.Subcommands.Add(SubmitCommand(context, g));
        root.Subcommands.Add(QuoteCommand(context, g));
        root.Subcommands.Add(StatusCommand(context, g));
        root.Subcommands.Add(ResultCommand(context, g));
        root.Subcommands.Add(CancelCommand(context, g));
        root.Subcommands.Add(JobsCommand(context, g));
        root.Subcommands.Add(KernelsCommand(context, g));
        root.Subcommands.Add(NodesCommand(context, g));
        root.Subcommands.Add(AccountCommand(context, g));
        root.Subcommands.Add(EpochsCommand(context, g));
        root.Subcommands.Add(CloseEpochCommand(context, g));
        root.Subcommands.Add(SettlementCommand(context, g));
        root.Subcommands.Add(StatementCommand(context, g));
        root.Subcommands.Add(ClaimCommand(context, g));
        root.Subcommands.Add(NodeCommand(context, g));
        root.Subcommands.Add(WaitReadyCommand(context, g));
        root.Subcommands.Add(DemoCommand(context, g));
        root.Subcommands.Add(AdminCommand(context, g));
        return root;
    }

    internal static bool TryParseApi(string? value, out Uri uri)
    {
        uri = null!;
        if (string.IsNullOrWhiteSpace(value)) return false;
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            return false;
        uri = u;
        return true;
    }

    /// <summary>Option parsing a duration such as 60s, 2m, 500ms.</summary>
    internal static Option<TimeSpan> DurationOption(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = description + " (e.g. 30s, 2m, 500ms)",
        HelpName = "duration",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Format.TryParseDuration(text, out var d)) return d;
            r.AddError($"'{text}' is not a duration for {name} (use e.g. 30s, 2m, 500ms).");
            return default;
        },
    };

    /// <summary>One command invocation: the parse, the client, the writers.</summary>
    internal sealed class Invocation(ParseResult parse, CliContext context, DePinClient client, Uri api, bool json, CancellationToken cancellationToken)
    {
        public ParseResult Parse { get; } = parse;
        public CliContext Context { get; } = context;
        public DePinClient Client { get; } = client;
        public Uri Api { get; } = api;
        public bool Json { get; } = json;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TextWriter Out => Context.Out;
        public TextWriter Err => Context.Error;
        public T? Get<T>(Option<T> option) => Parse.GetValue(option);
        public T? Get<T>(Argument<T> argument) => Parse.GetValue(argument);
    }

    /// <summary>A user mistake found after parsing (bad JSON, unreadable file...): message, exit 1.</summary>
    internal sealed class CliUserException(string message) : Exception(message);

    /// <summary>The API did not become reachable/ready: message, exit 2.</summary>
    internal sealed class CliUnreachableException(string message) : Exception(message);

    /// <summary>
    /// Sets an action that gets a client for <c>--api</c> with the API key (<see cref="CliContext.ResolveApiKey"/>; the
    /// local <c>admin.key</c> rather than <c>client.key</c> when <paramref name="admin"/>) and maps expected failures to exit codes.
    /// </summary>
    internal static void SetClientAction(Command command, CliContext context, GlobalOptions g, Func<Invocation, Task<int>> body, bool admin = false)
    {
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var apiText = parse.GetValue(g.Api);
            if (!TryParseApi(apiText, out var api))
            {
                context.Error.WriteLine($"error: '{apiText}' is not an http(s) URL for --api / ${CliContext.ApiEnvironmentVariable}.");
                return ExitError;
            }
            var handler = context.Handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
            using var http = new HttpClient(handler, disposeHandler: context.Handler is null)
            {
                BaseAddress = api,
                Timeout = context.RequestTimeout,
            };
            string? apiKey;
            try
            {
                apiKey = context.ResolveApiKey(parse.GetValue(g.ApiKey), admin);
            }
            catch (IOException ex)
            {
                context.Error.WriteLine($"error: {ex.Message}");
                return ExitError;
            }
            using var client = new DePinClient(http, apiKey);
            try
            {
                return await body(new Invocation(parse, context, client, client.BaseAddress, parse.GetValue(g.Json), ct)).ConfigureAwait(false);
            }
            catch (Exception ex) when (MapException(ex, client.BaseAddress, context.Error, ct) is { } code)
            {
                return code;
            }
        });
    }

    /// <summary>Writes the message of an expected failure and returns its exit code; null for unexpected exceptions.</summary>
    internal static int? MapException(Exception ex, Uri api, TextWriter err, CancellationToken ct)
    {
        switch (ex)
        {
            case DePinApiException { StatusCode: System.Net.HttpStatusCode.Unauthorized } p:
                err.WriteLine($"error: {p.Title} (401): {p.Detail ?? "the API needs a valid API key."} Pass one with --api-key, "
                    + $"${CliContext.ApiKeyEnvironmentVariable} or ${CliContext.ApiKeyFileEnvironmentVariable} (a local silo writes .run/keys/client.key and admin.key).");
                return ExitError;
            case DePinApiException { StatusCode: System.Net.HttpStatusCode.Forbidden } p:
                err.WriteLine($"error: {p.Title} (403): {p.Detail ?? "this API key may not do that."}");
                return ExitError;
            case DePinApiException p:
                err.WriteLine(p.Detail is null ? $"error: {p.Title}" : $"error: {p.Title}: {p.Detail}");
                return ExitError;
            case OperationCanceledException when ct.IsCancellationRequested:
                err.WriteLine("cancelled");
                return ExitCancelled;
            case TaskCanceledException { InnerException: TimeoutException }:
            case TaskCanceledException:
                err.WriteLine($"error: the DePin API at {api} did not answer in time.");
                return ExitUnreachable;
            case HttpRequestException h when IsUnreachable(h):
                err.WriteLine($"error: cannot connect to the DePin API at {api} ({Reason(h)}). Is the silo running? Point the CLI at it with --api <url> or ${CliContext.ApiEnvironmentVariable}.");
                return ExitUnreachable;
            case HttpRequestException h:
                err.WriteLine($"error: request to the DePin API at {api} failed: {Reason(h)}");
                return ExitUnreachable;
            case CliUnreachableException u:
                err.WriteLine($"error: {u.Message}");
                return ExitUnreachable;
            case ResultDigestMismatchException or TimeoutException or CliUserException:
                err.WriteLine($"error: {ex.Message}");
                return ExitError;
            case IOException or UnauthorizedAccessException:
                err.WriteLine($"error: {ex.Message}");
                return ExitError;
            default:
                return null;
        }
    }

    private static bool IsUnreachable(HttpRequestException h) =>
        h.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError
        || h.InnerException is SocketException;

    internal static string Reason(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner is SocketException s ? s.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.NoData => "host not found",
            SocketError.TimedOut => "connection timed out",
            _ => s.Message,
        } : inner.Message;
    }
}
