using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DePin.Tests.Api;

/// <summary>One operation of the served API: a method, a route template such as <c>/jobs/{jobId}</c>, whether it reads a body.</summary>
public sealed record FuzzOperation(string Method, string Template, bool HasBody)
{
    /// <summary>Node protocol operations take node session tokens and are sent with every kind of caller.</summary>
    public bool IsNodeProtocol => Template.StartsWith("/node/", StringComparison.Ordinal);

    /// <summary>True when a valid request would change state: the fuzzer only sends invalid ones (a 2xx is a test bug).</summary>
    public bool Writes => Method != "GET" && Template != "/jobs/quote";

    /// <summary>An admin's request to a write with no input (<c>POST /epochs/close</c>) is always valid: never sent.</summary>
    public bool ReadsNoInput => Writes && !HasBody && !Template.Contains('{');

    /// <inheritdoc />
    public override string ToString() => $"{Method} {Template}";
}

/// <summary>A hostile request, not yet bound to a caller.</summary>
public sealed record FuzzRequest(FuzzOperation Operation, string Method, string Path, byte[]? Body, string? ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers, string Mutation)
{
    /// <summary>True when the request is the operation's own method and a valid caller could only change state with it.</summary>
    public bool IsOwnMethod => Method == Operation.Method;
}

/// <summary>Real identifiers of the fuzzed silo, so that mutations land next to live state.</summary>
public sealed record FuzzTargets(string JobId, string KeyId, string NodeId, string OtherNodeId, string PayoutAddress,
    string ReplayedRegistration, string ForgedReportSignature);

/// <summary>
/// Builds the deterministic corpus: for every operation, hostile path parameters, query strings, headers, content types,
/// methods and bodies (every field of a template body replaced by every hostile value, plus broken documents). Bodies of
/// operations that write are built on a template that is invalid in at least two independent ways, so no single mutation
/// can make a valid (state-changing) request.
/// </summary>
public static class FuzzCorpus
{
    /// <summary>The mutation that sends a body over the fuzzed silo's <c>Api:MaxRequestBytes</c> (256 KiB).</summary>
    public const string OversizedBody = "body oversized";

    /// <summary>Hostile path segments (already URL-encoded).</summary>
    public static readonly string[] HostileIds =
    [
        "%20", "%20%20", "%09", "%0d%0a", "..%2f..%2fkeys", "..%2F", "%2e%2e", "%2e", "%00", "a%00b", "%01", "%7f", "%E2%80%AE",
        "%FF%FE", "%C0%AF", "%F0%9F%92%A3", "%5c..%5c", "%3f", "%23", "%25", "%2B1", "-1", "0", "9223372036854775808",
        "99999999999999999999999999", "NaN", "Infinity", "-Infinity", "1e309", "null", "undefined", "%27%3B%20DROP%20TABLE",
        "%3Cscript%3E", "%7BjobId%7D", "~", new string('a', 300), new string('9', 5000),
        "0x0000000000000000000000000000000000000000", "0x" + new string('g', 40), "0x" + new string('F', 40), "0x" + new string('1', 39),
    ];

    /// <summary>Hostile query strings: paging out of range or of the wrong type, unknown parameters, repeats.</summary>
    public static readonly string[] HostileQueries =
    [
        "offset=-1", "limit=0", "limit=-5", "limit=2147483647", "limit=2147483648", "offset=2147483647", "offset=-2147483648",
        "limit=99999999999999", "limit=abc", "limit=NaN", "offset=1e3", "limit=", "limit=1&limit=2", "offset=1.5",
        "status=bogus", "status=", "status=Unknown", "status=0", "status=%00", "unknown=1", "__proto__[x]=1", "limit=%20",
        "offset=-1&limit=-1", "q=" + new string('x', 4000),
    ];

    /// <summary>Hostile JSON values, as raw JSON text (some deliberately not JSON).</summary>
    public static readonly string[] HostileValues =
    [
        "null", "\"\"", "\"   \"", "\"\\u0000\"", "\"\\ud800\"", "\"\\u202e\\u0007\"", "\"\ud83d\udca3\"", Quote(new string('A', 20_000)),
        "0", "-1", "-2147483649", "2147483648", "9223372036854775808", "-9223372036854775809", "1e309", "-1e309", "1.5", "1e-320",
        "123456789012345678901234567890", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN", "true", "[null]", "[[]]", "{}",
        "{\"$ref\":\"#\"}", new string('[', 100) + new string(']', 100), "\"0x0000000000000000000000000000000000000000\"",
        "\"0x" + new string('z', 40) + "\"", "\"!!!not base64===\"", "\"AAAA\"", "\"0x\"",
    ];

    private static readonly string[] BrokenBodies =
    [
        "", " ", "{", "}", "[", "{\"a\":", "null", "true", "1", "\"text\"", "[]", "[{}]", "{,}", "{\"a\":1,}", "{'a':1}",
        "/* c */ {}", "{\"a\":1}{\"b\":2}", "\ufeff{}", new string('[', 5000), string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70),
        "[" + string.Join(',', Enumerable.Repeat("1", 10_000)) + "]", "{\"role\":\"admin\",\"role\":7}",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/json; charset=utf-32", "application/problem+json", "*/*", "garbage", "application/json; charset=\"\"",
    ];

    private static readonly string[] Methods = ["PUT", "PATCH", "OPTIONS", "TRACE", "FUZZ", "GET", "POST", "DELETE"];

    /// <summary>Builds every request for <paramref name="operations"/>.</summary>
    public static List<FuzzRequest> Build(IReadOnlyList<FuzzOperation> operations, FuzzTargets targets, int seed)
    {
        var random = new Random(seed);
        var requests = new List<FuzzRequest>();
        foreach (var op in operations)
        {
            var template = BodyTemplate(op, targets);
            var body = template is null ? null : Encoding.UTF8.GetBytes(template);
            var path = Fill(op, targets, real: !op.Writes);
            FuzzRequest Make(string mutation, string? method = null, string? requestPath = null, byte[]? requestBody = null,
                string? contentType = "application/json", params KeyValuePair<string, string>[] headers) =>
                new(op, method ?? op.Method, requestPath ?? path, requestBody ?? body, requestBody is null && body is null ? null : contentType, headers, mutation);

            foreach (var parameter in Parameters(op.Template))
            {
                foreach (var id in HostileIds) requests.Add(Make($"path {parameter}={Excerpt(id)}", requestPath: Fill(op, targets, !op.Writes, (parameter, id))));
                if (parameter is "nodeId") requests.Add(Make("path nodeId=a/b/c", requestPath: Fill(op, targets, !op.Writes, (parameter, "a/b/%2e%2e/c"))));
            }
            foreach (var query in HostileQueries) requests.Add(Make($"query {Excerpt(query)}", requestPath: path + "?" + query));
            foreach (var (name, value) in HostileHeaders(random)) requests.Add(Make($"header {name}={Excerpt(value)}", headers: [new(name, value)]));
            requests.Add(Make("40 headers", headers: [.. Enumerable.Range(0, 40).Select(i => new KeyValuePair<string, string>($"X-Fuzz-{i}", new string('h', 150)))]));
            foreach (var type in ContentTypes) requests.Add(Make($"content-type {type}", requestBody: body ?? "{}"u8.ToArray(), contentType: type));
            requests.Add(Make("no content-type", requestBody: body ?? "{}"u8.ToArray(), contentType: null));
            // Another method on the same path: never with a real id, where DELETE or POST would be valid actions.
            var idle = Fill(op, targets, real: false);
            foreach (var method in Methods.Where(m => m != op.Method)) requests.Add(Make($"method {method}", method, idle));

            foreach (var broken in BrokenBodies) requests.Add(Make($"body {Excerpt(broken)}", requestBody: Encoding.UTF8.GetBytes(broken)));
            requests.Add(Make("body invalid utf-8", requestBody: [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc0, 0x7d]));
            requests.Add(Make("body NUL bytes", requestBody: [0x7b, 0x00, 0x00, 0x7d]));
            requests.Add(Make(OversizedBody, requestBody: Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 300_000) + "\"}")));
            if (template is null) continue;

            foreach (var field in Fields(JsonNode.Parse(template)!))
            {
                foreach (var value in HostileValues) requests.Add(Make($"field {field}={Excerpt(value)}", requestBody: Encoding.UTF8.GetBytes(Replace(template, field, value))));
                requests.Add(Make($"field {field} removed", requestBody: Encoding.UTF8.GetBytes(Replace(template, field, null))));
            }
            requests.Add(Make("every field null", requestBody: Encoding.UTF8.GetBytes(AllNull(JsonNode.Parse(template)!).ToJsonString())));
            requests.Add(Make("unknown fields", requestBody: Encoding.UTF8.GetBytes(template.TrimEnd('}') + ",\"__proto__\":{},\"extra\":[1,2,3]}")));
        }
        return requests;
    }

    /// <summary>
    /// The body an operation is fuzzed from. Write operations get a body that is refused for two independent reasons
    /// (e.g. a job's priority, unit count and budget are all out of range), reads a valid one.
    /// </summary>
    public static string? BodyTemplate(FuzzOperation op, FuzzTargets targets) => !op.HasBody ? null : (op.Method, op.Template) switch
    {
        ("POST", "/jobs") => """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":100000000},"redundancy":1,"priority":1000,"maxPriceMicroCredits":0,"requirements":{"deviceKinds":["VectorCpu"],"minMemoryBytes":1,"minGflops":1}}""",
        ("POST", "/jobs/quote") => """{"kernel":"montecarlo-pi","parameters":{"samples":1000,"units":1},"redundancy":2,"requirements":{"deviceKinds":["VectorCpu"],"minGflops":1}}""",
        ("POST", "/keys") => $$"""{"role":"superuser","name":"{{new string('n', 101)}}"}""",
        ("POST", "/node/v1/challenge") => """{"nodeAddress":"0x0000000000000000000000000000000000000000"}""",
        ("POST", "/node/v1/register") => targets.ReplayedRegistration,
        ("POST", "/node/v1/lease") => $$"""{"nodeId":"{{targets.NodeId}}","max":0,"waitMs":-1}""",
        ("POST", "/node/v1/report") => $$"""{"nodeId":"{{targets.NodeId}}","results":[{"leaseId":1,"jobId":"{{targets.JobId}}","index":0,"output":"AAAA","digest":"XYZ","error":null,"elapsedMs":1.5}],"signature":"{{targets.ForgedReportSignature}}"}""",
        ("POST", "/node/v1/heartbeat") => $$"""{"nodeId":"{{targets.NodeId}}","leases":[{"leaseId":1,"jobId":"","index":-1},{"leaseId":2,"jobId":"{{new string('j', 65)}}","index":0}]}""",
        _ => """{"id":"x","value":1}""",
    };

    private static IEnumerable<(string Name, string Value)> HostileHeaders(Random random)
    {
        yield return ("X-Forwarded-For", "1.2.3.4");
        yield return ("X-Forwarded-For", "::1, 127.0.0.1, 10.0.0.1");
        yield return ("X-Forwarded-For", "garbage,,, ,%00");
        yield return ("X-Forwarded-For", string.Join(", ", Enumerable.Range(0, 200).Select(_ => $"{random.Next(256)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}")));
        yield return ("X-Forwarded-Proto", "javascript");
        yield return ("X-Forwarded-Host", "evil.example");
        yield return ("Idempotency-Key", "");
        yield return ("Idempotency-Key", "   ");
        yield return ("Idempotency-Key", new string('k', 201));
        yield return ("Idempotency-Key", "a b");
        yield return ("Idempotency-Key", "\t");
        yield return ("Idempotency-Key", "k, k2");
        yield return ("X-Fuzz-Big", new string('b', 8000));
        yield return ("Accept", "application/xml");
        yield return ("Accept-Encoding", "gzip;q=NaN, br;q=-1");
        yield return ("X-Api-Key", "dpk_garbage");
        yield return ("X-Api-Key", "");
        yield return ("Range", "bytes=-1-99999999999999999999");
        yield return ("If-None-Match", "\"" + new string('e', 2000) + "\"");
    }

    private static IEnumerable<string> Parameters(string template)
    {
        for (var start = template.IndexOf('{'); start >= 0; start = template.IndexOf('{', start + 1))
            yield return template[(start + 1)..template.IndexOf('}', start)].TrimStart('*');
    }

    /// <summary>The template with real ids (<paramref name="real"/>) or ids that match nothing, and overrides.</summary>
    private static string Fill(FuzzOperation op, FuzzTargets targets, bool real, params (string Name, string Value)[] overrides)
    {
        var path = op.Template;
        foreach (var name in Parameters(op.Template))
        {
            var value = overrides.FirstOrDefault(o => o.Name == name).Value ?? (name switch
            {
                "jobId" => real ? targets.JobId : "job-that-does-not-exist",
                "keyId" => real ? targets.KeyId : "0000000000000000",
                "nodeId" => Uri.EscapeDataString(real ? targets.NodeId : "node-that-does-not-exist").Replace("%2F", "/"),
                "address" => real ? targets.PayoutAddress : "0x1111111111111111111111111111111111111111",
                "epoch" => real ? "1" : "424242",
                _ => "fuzz",
            });
            path = path.Replace("{" + name + "}", value).Replace("{**" + name + "}", value);
        }
        return path;
    }

    /// <summary>JSON paths of every property and array element (e.g. <c>results[0].digest</c>).</summary>
    private static IEnumerable<string> Fields(JsonNode node, string prefix = "")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o)
                {
                    var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
                    yield return path;
                    if (child is not null) foreach (var inner in Fields(child, path)) yield return inner;
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    yield return $"{prefix}[{i}]";
                    if (a[i] is { } child) foreach (var inner in Fields(child, $"{prefix}[{i}]")) yield return inner;
                }
                break;
        }
    }

    /// <summary>The template with the field at <paramref name="path"/> set to raw JSON text, or removed when null.</summary>
    private static string Replace(string template, string path, string? raw)
    {
        const string marker = "\u0001fuzz\u0001";
        var root = JsonNode.Parse(template)!;
        var parts = path.Replace("[", ".[").Split('.', StringSplitOptions.RemoveEmptyEntries);
        var parent = root;
        foreach (var part in parts[..^1]) parent = part.StartsWith('[') ? parent[int.Parse(part[1..^1])]! : parent[part]!;
        var last = parts[^1];
        if (last.StartsWith('['))
        {
            var array = parent.AsArray();
            var index = int.Parse(last[1..^1]);
            if (raw is null) array.RemoveAt(index);
            else array[index] = marker;
        }
        else if (raw is null) parent.AsObject().Remove(last);
        else parent[last] = marker;
        return root.ToJsonString().Replace(JsonSerializer.Serialize(marker), raw);
    }

    private static JsonNode AllNull(JsonNode node)
    {
        if (node is JsonObject o)
            foreach (var name in o.Select(p => p.Key).ToList()) o[name] = null;
        return node;
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    /// <summary>At most 40 characters of <paramref name="text"/>, for failure messages.</summary>
    public static string Excerpt(string text) => text.Length <= 40 ? text : $"{text[..37]}…({text.Length})";
}
