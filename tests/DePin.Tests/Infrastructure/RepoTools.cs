using System.Diagnostics;

namespace DePin.Tests.Infrastructure;

/// <summary>The repository this test build belongs to, and its tools: built programs and the npm-installed CLIs.</summary>
public static class RepoTools
{
    /// <summary>The directory holding DePin.Orleans.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Build configuration of this test assembly (Release or Debug).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    /// <summary>An npm-installed command (node_modules/.bin); throws with the fix when npm ci has not run.</summary>
    public static string NpmBin(string name)
    {
        var path = Path.Combine(Root, "node_modules", ".bin", name);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run `npm ci` (deploy/install-deps.sh) at the repository root");
    }

    /// <summary>Runs a program to completion and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var (code, stdout, stderr) = await RunSeparatelyAsync(fileName, arguments, workingDirectory, timeout);
        return (code, stdout + stderr);
    }

    /// <summary>Runs a program to completion and returns its exit code, standard output and standard error.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunSeparatelyAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(fileName) { WorkingDirectory = workingDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["REDOCLY_TELEMETRY"] = "off";
        psi.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var process = Process.Start(psi)!;
        var output = new ProcessOutput(process);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(fileName)} did not finish within {timeout}: {output.All}");
        }
        return (process.ExitCode, output.Stdout, output.Stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DePin.Orleans.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("DePin.Orleans.sln not found above the test directory");
    }
}
