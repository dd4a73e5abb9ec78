using System.Diagnostics;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.NodeGateway;

/// <summary>A real <c>depin node run</c> process (the CLI build of this test's configuration).</summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ProcessOutput _output;

    private AgentProcess(Process process)
    {
        _process = process;
        _output = new ProcessOutput(process);
    }

    /// <summary>What the agent printed so far.</summary>
    public string Output => _output.All;

    /// <summary>The process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>depin --api {api} node run --dir {dir} ...</c>.</summary>
    public static AgentProcess Start(Uri api, string identityDirectory, string passwordFile, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[CliDll, "--api", api.ToString(), "node", "run", "--dir", identityDirectory, "--password-file", passwordFile,
                     "--no-probe", "--no-gpus", .. extra])
        {
            psi.ArgumentList.Add(arg);
        }
        return new AgentProcess(Process.Start(psi)!);
    }

    /// <summary>kill -9.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM (drain), then wait for exit.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString() }, UseShellExecute = false })!)
            await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static string CliDll { get; } = FindCli();

    private static string FindCli()
    {
        var dll = Path.Combine(RepoTools.Root, "src", "DePin.Cli", "bin", RepoTools.Configuration, "net10.0", "depin.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution");
    }
}
