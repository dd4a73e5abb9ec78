using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace DePin.Settlement.DevChain;

/// <summary>Options of a local anvil dev chain.</summary>
public sealed class AnvilOptions
{
    /// <summary>Chain id (default 31337, the only chain <see cref="Keys.DevChainKeys"/> may be used on).</summary>
    public long ChainId { get; set; } = 31337;
    /// <summary>Mine a block every N seconds instead of on every transaction.</summary>
    public int? BlockTimeSeconds { get; set; }
    /// <summary>Disable automatic mining (blocks only via evm_mine).</summary>
    public bool NoMining { get; set; }
    /// <summary>Fixed port (default: a free ephemeral port on 127.0.0.1; 8545 is refused).</summary>
    public int? Port { get; set; }
    /// <summary>Explicit anvil binary (default: node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil under the repo root).</summary>
    public string? BinaryPath { get; set; }
    /// <summary>How long to wait for JSON-RPC to answer.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Extra command-line arguments.</summary>
    public IList<string> ExtraArguments { get; } = new List<string>();
}

/// <summary>
/// A local anvil process on 127.0.0.1 (for tests and the dev script). Starts the npm-installed binary
/// (`npm ci` at the repo root), waits until JSON-RPC answers, kills the process on dispose.
/// </summary>
public sealed class AnvilNode : IAsyncDisposable
{
    /// <summary>Path of the binary relative to the repository root.</summary>
    public const string RelativeBinaryPath = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private int _rpcId;
    private bool _disposed;

    private AnvilNode(Process process, int port, long chainId)
    {
        _process = process;
        Port = port;
        ChainId = chainId;
        RpcUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>JSON-RPC endpoint.</summary>
    public string RpcUrl { get; }
    /// <summary>TCP port.</summary>
    public int Port { get; }
    /// <summary>Chain id.</summary>
    public long ChainId { get; }
    /// <summary>Last output lines of the process (diagnostics).</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Walks up from <paramref name="start"/> (default: the app base directory, then the current directory) to the folder containing DePin.Orleans.sln.</summary>
    public static string FindRepoRoot(string? start = null)
    {
        foreach (var origin in new[] { start, AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            if (origin is null) continue;
            for (var dir = new DirectoryInfo(origin); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "DePin.Orleans.sln"))) return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Cannot find the repository root (a folder containing DePin.Orleans.sln).");
    }

    /// <summary>Path of the npm-installed anvil binary; throws a message telling to run `npm ci` if it is missing.</summary>
    public static string FindBinary()
    {
        var path = Path.Combine(FindRepoRoot(), RelativeBinaryPath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"anvil is not installed at {path}. Run `npm ci` in the repository root (installs @foundry-rs/anvil).", path);
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) == 0)
            throw new InvalidOperationException($"{path} is not executable. Re-run `npm ci` in the repository root.");
        return path;
    }

    /// <summary>Starts anvil and waits until it answers eth_chainId.</summary>
    public static async Task<AnvilNode> StartAsync(AnvilOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AnvilOptions();
        var binary = options.BinaryPath ?? FindBinary();
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = options.Port ?? FreePort();
            if (port == 8545) throw new ArgumentException("Port 8545 is reserved; pick another one.", nameof(options));
            var node = Launch(binary, port, options);
            try
            {
                await node.WaitReadyAsync(options.StartupTimeout, cancellationToken).ConfigureAwait(false);
                return node;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                last = e;
                await node.DisposeAsync().ConfigureAwait(false);
                if (options.Port is not null) break; // fixed port: no point retrying (port race only with ephemeral ports)
            }
        }
        throw new InvalidOperationException($"anvil did not start: {last?.Message}", last);
    }

    private static AnvilNode Launch(string binary, int port, AnvilOptions options)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        psi.ArgumentList.Add("--host"); psi.ArgumentList.Add("127.0.0.1");
        psi.ArgumentList.Add("--port"); psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("--chain-id"); psi.ArgumentList.Add(options.ChainId.ToString(CultureInfo.InvariantCulture));
        if (options.NoMining) psi.ArgumentList.Add("--no-mining");
        if (options.BlockTimeSeconds is { } bt) { psi.ArgumentList.Add("--block-time"); psi.ArgumentList.Add(bt.ToString(CultureInfo.InvariantCulture)); }
        foreach (var a in options.ExtraArguments) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        if (!process.Start()) throw new InvalidOperationException($"Cannot start {binary}.");
        var result = new AnvilNode(process, port, options.ChainId);
        process.OutputDataReceived += (_, e) => result.Append(e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            if (_log.Length > 64 * 1024) _log.Remove(0, 32 * 1024);
            _log.AppendLine(line);
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"anvil exited with code {_process.ExitCode}: {Log}");
            try
            {
                var chainId = await RpcAsync("eth_chainId", [], cts.Token).ConfigureAwait(false);
                if (chainId.ValueKind == JsonValueKind.String) return;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"anvil did not answer JSON-RPC on {RpcUrl} within {timeout}: {Log}");
            }
            try
            {
                await Task.WhenAny(_process.WaitForExitAsync(cts.Token), Task.Delay(delay, cts.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { /* handled at the top of the loop */ }
            if (cts.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException($"anvil did not answer JSON-RPC on {RpcUrl} within {timeout}: {Log}");
            }
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 200));
        }
    }

    /// <summary>Sends a raw JSON-RPC call and returns the result element (throws on an error response).</summary>
    public async Task<JsonElement> RpcAsync(string method, object[] parameters, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = Interlocked.Increment(ref _rpcId), method, @params = parameters });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(RpcUrl, content, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(text);
        if (doc.RootElement.TryGetProperty("error", out var error))
            throw new InvalidOperationException($"{method} failed: {error.GetRawText()}");
        return doc.RootElement.GetProperty("result").Clone();
    }

    /// <summary>Mines <paramref name="blocks"/> blocks (evm_mine).</summary>
    public async Task MineAsync(int blocks = 1, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < blocks; i++) await RpcAsync("evm_mine", [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Turns automine on/off (evm_setAutomine).</summary>
    public Task SetAutomineAsync(bool enabled, CancellationToken cancellationToken = default) =>
        RpcAsync("evm_setAutomine", [enabled], cancellationToken);

    /// <summary>Transactions waiting in the pool (txpool_content pending count).</summary>
    public async Task<int> PendingTransactionCountAsync(CancellationToken cancellationToken = default)
    {
        var status = await RpcAsync("txpool_status", [], cancellationToken).ConfigureAwait(false);
        var pending = status.GetProperty("pending");
        return pending.ValueKind == JsonValueKind.Number ? pending.GetInt32() : Convert.ToInt32(pending.GetString(), 16);
    }

    private static int FreePort()
    {
        for (int i = 0; i < 10; i++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port != 8545) return port;
        }
        throw new InvalidOperationException("No free port.");
    }

    /// <summary>Kills the process.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException) { /* already gone */ }
        catch (OperationCanceledException) { /* gave up waiting */ }
        finally
        {
            _process.Dispose();
            _http.Dispose();
        }
    }
}
