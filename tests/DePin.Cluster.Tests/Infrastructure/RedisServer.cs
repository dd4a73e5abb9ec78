using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>
/// A real redis-server child process on a free loopback port, with an append-only file fsynced on every write in a
/// temporary directory: a kill -9 and restart on the same port keeps everything acknowledged (the Redis restart test).
/// It requires a password (<c>requirepass</c>), as a production Redis does: silos get it through <c>Silo:RedisPassword</c>.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _dir;
    private Process? _process;

    private RedisServer(int port, string dir)
    {
        Port = port;
        _dir = dir;
    }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>The password Redis requires (random per server).</summary>
    public string Password { get; } = "redis-" + Guid.NewGuid().ToString("N");

    /// <summary><c>host:port</c>, without the password: the <c>Silo:Redis</c> the silos get (with <c>Silo:RedisPassword</c>).</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>StackExchange.Redis configuration string with the password, for connections from the test process.</summary>
    public string ConnectionString => $"{Endpoint},password={Password}";

    /// <summary>Starts a server; fails with a clear message when redis-server is not installed.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("depin-redis-").FullName;
        var server = new RedisServer(FreePort(), dir);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Kills the server (SIGKILL: a crash) and starts it again on the same port from its append-only file.</summary>
    public async Task CrashAndRestartAsync(TimeSpan downtime)
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        await Task.Delay(downtime); // the outage itself, not synchronisation
        await StartProcessAsync();
    }

    private async Task StartProcessAsync()
    {
        var exe = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed (it is needed by DePin.Cluster.Tests); run deploy/install-deps.sh or apt-get install redis-server");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                     "--appendfsync", "always", "--dir", _dir, "--protected-mode", "yes", "--requirepass", Password })
        {
            psi.ArgumentList.Add(arg);
        }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                await using var c = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},connectTimeout=500");
                // Ready means answering commands: after a restart Redis replies LOADING until its append-only file is read.
                await c.GetDatabase().PingAsync();
                return;
            }
            catch (Exception ex) when ((ex is RedisConnectionException || (ex is RedisServerException && ex.Message.StartsWith("LOADING", StringComparison.Ordinal)))
                                       && DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>A TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
