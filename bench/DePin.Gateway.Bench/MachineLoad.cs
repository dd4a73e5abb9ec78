namespace DePin.Gateway.Bench;

/// <summary>The load average, printed next to every figure: this machine is shared with other builds.</summary>
static class MachineLoad
{
    public static string Read() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
