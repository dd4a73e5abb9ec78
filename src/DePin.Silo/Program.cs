using DePin.Silo.Hosting;
using Microsoft.Extensions.Options;

// One host program: an Orleans silo with, by role, the HTTP job API and GPU workers.
// No configuration = embedded default on 127.0.0.1 (see README "Configuration").
// A failed start-up check (Silo:Redis unreachable, an invalid option) prints one line and exits non-zero; a Redis
// password never appears in it.
try
{
    await DePinSilo.Build(args).RunAsync();
    return 0;
}
catch (SiloStartupException ex)
{
    Console.Error.WriteLine($"depin-silo: {RedisBackend.Redacted(ex.Message)}");
    return 3;
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine($"depin-silo: invalid configuration: {RedisBackend.Redacted(string.Join("; ", ex.Failures))}");
    return 2;
}
