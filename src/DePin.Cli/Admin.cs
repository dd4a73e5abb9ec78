using System.CommandLine;
using DePin.Client;

namespace DePin.Cli;

public static partial class Cli
{
    /// <summary><c>depin admin …</c>: network operator commands (admin key).</summary>
    private static Command AdminCommand(CliContext context, GlobalOptions g)
    {
        var keys = new Command("keys", "Manage API keys: create (the key is printed once), list, revoke");
        keys.Subcommands.Add(CreateKeyCommand(context, g));
        keys.Subcommands.Add(ListKeysCommand(context, g));
        keys.Subcommands.Add(RevokeKeyCommand(context, g));
        var nodes = new Command("nodes", "Exclude a misbehaving node from the network, or admit it again");
        nodes.Subcommands.Add(ExcludeNodeCommand(context, g));
        nodes.Subcommands.Add(ReadmitNodeCommand(context, g));
        var admin = new Command("admin", "Network operator commands; they need an admin key (.run/keys/admin.key on a local silo)");
        admin.Subcommands.Add(keys);
        admin.Subcommands.Add(nodes);
        return admin;
    }

    private static Command ExcludeNodeCommand(CliContext context, GlobalOptions g)
    {
        var id = new Argument<string>("nodeId") { Description = "The node, e.g. 0xabc…/cuda0 (from `depin nodes`)" };
        var reason = new Option<string>("--reason") { Description = "Why (shown to the node when it is refused)", Required = true, HelpName = "text" };
        var cmd = new Command("exclude", "Exclude a node: it can no longer log in, lease, report or renew; its leases return to the queue") { id, reason };
        SetClientAction(cmd, context, g, async run =>
        {
            var node = await run.Client.ExcludeNodeAsync(run.Get(id)!, run.Get(reason)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(node));
            else run.Out.WriteLine($"excluded {node.NodeId} (operator {node.OperatorAddress}): {node.ExcludedBecause}");
            return ExitOk;
        }, admin: true);
        return cmd;
    }

    private static Command ReadmitNodeCommand(CliContext context, GlobalOptions g)
    {
        var id = new Argument<string>("nodeId") { Description = "The node to admit again" };
        var cmd = new Command("readmit", "Admit an excluded node again") { id };
        SetClientAction(cmd, context, g, async run =>
        {
            var node = await run.Client.ReadmitNodeAsync(run.Get(id)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(node));
            else run.Out.WriteLine($"readmitted {node.NodeId}");
            return ExitOk;
        }, admin: true);
        return cmd;
    }

    private static Command CreateKeyCommand(CliContext context, GlobalOptions g)
    {
        var role = new Option<string>("--role")
        {
            Description = "client (runs its own jobs) or admin (everything)",
            HelpName = "role",
            DefaultValueFactory = _ => "client",
        };
        role.AcceptOnlyFromAmong("client", "admin");
        var name = new Option<string?>("--name") { Description = "A label: who or what uses the key", HelpName = "name" };
        var cmd = new Command("create", "Create an API key and print it (shown this once: store it now)") { role, name };
        SetClientAction(cmd, context, g, async run =>
        {
            var created = await run.Client.CreateApiKeyAsync(run.Get(role)!, run.Get(name), run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(created));
                return ExitOk;
            }
            run.Out.WriteLine(created.Key);
            run.Err.WriteLine($"created {created.Role} key {created.KeyId}{(created.Name is null ? "" : $" ({created.Name})")}; it is shown only now. "
                + $"Use it with --api-key or ${CliContext.ApiKeyEnvironmentVariable}; revoke it with `depin admin keys revoke {created.KeyId}`.");
            return ExitOk;
        }, admin: true);
        return cmd;
    }

    private static Command ListKeysCommand(CliContext context, GlobalOptions g)
    {
        var cmd = new Command("list", "List API keys (ids, roles, names; never secrets)");
        SetClientAction(cmd, context, g, async run =>
        {
            var keys = await run.Client.ListApiKeysAsync(cancellationToken: run.CancellationToken);
            if (run.Json)
            {
                run.Out.WriteLine(Format.Json(keys));
                return ExitOk;
            }
            var table = new TextTable("KEY ID", "ROLE", "NAME", "CREATED", "REVOKED");
            foreach (var k in keys) table.Add(k.KeyId, k.Role, k.Name ?? "-", Format.Time(k.CreatedAt), k.RevokedAt is null ? "-" : Format.Time(k.RevokedAt));
            table.Write(run.Out);
            return ExitOk;
        }, admin: true);
        return cmd;
    }

    private static Command RevokeKeyCommand(CliContext context, GlobalOptions g)
    {
        var id = new Argument<string>("keyId") { Description = "Public key id (from `depin admin keys list`, or the part after dpk_ of a key)" };
        var cmd = new Command("revoke", "Revoke an API key: every API silo refuses it within seconds") { id };
        SetClientAction(cmd, context, g, async run =>
        {
            var key = await run.Client.RevokeApiKeyAsync(run.Get(id)!, run.CancellationToken);
            if (run.Json) run.Out.WriteLine(Format.Json(key));
            else run.Out.WriteLine($"revoked {key.Role} key {key.KeyId}{(key.Name is null ? "" : $" ({key.Name})")}");
            return ExitOk;
        }, admin: true);
        return cmd;
    }
}
