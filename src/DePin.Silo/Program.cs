using DePin.Silo.Hosting;

// One host program: an Orleans silo with, by role, the HTTP job API and GPU workers.
// No configuration = embedded default on 127.0.0.1 (see README "Configuration").
await DePinSilo.Build(args).RunAsync();
