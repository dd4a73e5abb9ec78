using System.Diagnostics;
using System.Text;

namespace DePin.Tests.Infrastructure;

/// <summary>Collects what a started process prints on stdout and stderr, line by line, as it runs.</summary>
public sealed class ProcessOutput
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    /// <summary>Starts reading <paramref name="process"/>'s redirected output.</summary>
    public ProcessOutput(Process process)
    {
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Standard output so far.</summary>
    public string Stdout => Read(_stdout);

    /// <summary>Standard error so far.</summary>
    public string Stderr => Read(_stderr);

    /// <summary>Both, stdout first.</summary>
    public string All => Stdout + Stderr;

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null) return;
        lock (text) text.AppendLine(line);
    }

    private static string Read(StringBuilder text)
    {
        lock (text) return text.ToString();
    }
}
