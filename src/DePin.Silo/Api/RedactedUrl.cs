namespace DePin.Silo.Api;

/// <summary>
/// RPC URLs often carry credentials: user:password, an API key in the path (Infura <c>/v3/&lt;key&gt;</c>, Alchemy
/// <c>/v2/&lt;key&gt;</c>) or in the query. What the API shows and logs is the scheme, host and port only.
/// </summary>
public static class RedactedUrl
{
    /// <summary><c>scheme://host[:port]</c> of <paramref name="url"/>; null stays null, and anything unparseable becomes "(redacted)".</summary>
    public static string? Of(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return url;
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host)) return "(redacted)";
        return uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host}" : $"{uri.Scheme}://{uri.Host}:{uri.Port}";
    }
}
