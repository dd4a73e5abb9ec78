using System.Net;
using System.Net.Sockets;

namespace DePin.Cli.Tests;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
public sealed record Outcome(int ExitCode, string Out, string Err);

/// <summary>Runs the CLI in process over real HTTP, capturing its output.</summary>
public static class CliRun
{
    // Bound but never listening: the port stays ours (no silo can take it) and every connection to it is refused.
    private static readonly Socket Reserved = Reserve();

    /// <summary>An address nothing listens on: a command that should send no request fails loudly if it does.</summary>
    public static readonly Uri Nowhere = new($"http://127.0.0.1:{((IPEndPoint)Reserved.LocalEndPoint!).Port}");

    private static Socket Reserve()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>
    /// Runs <paramref name="args"/> against <paramref name="api"/> (null = <see cref="Nowhere"/>) with
    /// <paramref name="keysDirectory"/> as the local bootstrap key directory (null = one that does not exist, so no local key
    /// is found); <paramref name="environment"/> replaces the process environment (null = an empty one).
    /// </summary>
    public static async Task<Outcome> RunAsync(Uri? api, Func<string, string?>? environment, string? keysDirectory, string[] args,
        CancellationToken cancellationToken = default)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext
        {
            Out = stdout,
            Error = stderr,
            ApiDefault = (api ?? Nowhere).ToString(),
            PollInterval = TimeSpan.FromMilliseconds(20),
            RequestTimeout = TimeSpan.FromSeconds(60),
            OutputIsTerminal = true,
            GetEnvironmentVariable = environment ?? (_ => null),
            KeysDirectory = keysDirectory ?? Path.Combine(Path.GetTempPath(), "depin-no-keys-" + Guid.NewGuid().ToString("N")),
        };
        var code = await Cli.RunAsync(args, context, cancellationToken);
        return new Outcome(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <paramref name="args"/> where no request is expected (see <see cref="Nowhere"/>).</summary>
    public static Task<Outcome> OfflineAsync(params string[] args) => RunAsync(null, null, null, args);
}
