using Keel.Runtime.Alerts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Keel.Cli;

/// <summary>
/// The <c>alerts</c> section: which events of paper and live runs are sent, to a Telegram chat and/or a webhook.
/// <c>KEEL__ALERTS__TELEGRAM_TOKEN</c>, <c>KEEL__ALERTS__TELEGRAM_CHAT</c>, <c>KEEL__ALERTS__WEBHOOK_URL</c>, … (docs/live.md).
/// </summary>
internal static class AlertConfig
{
    public static readonly string[] Keys = ["events", "telegram_token", "telegram_chat", "telegram_url", "webhook_url", "webhook_secret"];

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The dispatcher the configuration asks for, or null when it names no sink.</summary>
    public static AlertDispatcher? Create(IConfiguration config, ILoggerFactory logging)
    {
        var s = config.GetSection("alerts");
        string? Value(string key) => s[key] is { } v && v.Trim().Length > 0 ? v.Trim() : null;
        string Name(string key) => CliConfig.Name(config, $"alerts:{key}", $"alerts.{key}");

        var sinks = new List<IAlertSink>();
        var token = Value("telegram_token");
        var chat = Value("telegram_chat");
        if (token is not null || chat is not null)
        {
            if (token is null || chat is null)
            {
                throw new UsageException($"{Name(token is null ? "telegram_chat" : "telegram_token")} is set but {Name(token is null ? "telegram_token" : "telegram_chat")} is not: Telegram alerts need the bot token and the chat id");
            }

            if (token.Any(c => char.IsWhiteSpace(c) || c is '/' or '?' or '#'))
            {
                // The token goes into the request's path; never echo it.
                throw new UsageException($"{Name("telegram_token")} is not a Telegram bot token (it holds spaces or URL characters)");
            }

            sinks.Add(new TelegramAlertSink(Http, token, chat, Url("telegram_url", Value("telegram_url"), Name)));
        }

        if (Value("webhook_url") is { } hook)
        {
            sinks.Add(new WebhookAlertSink(Http, Url("webhook_url", hook, Name)!, Value("webhook_secret")));
        }
        else if (Value("webhook_secret") is not null)
        {
            throw new UsageException($"{Name("webhook_secret")} is set but {Name("webhook_url")} is not");
        }

        var kinds = AlertKinds.Default;
        if (Value("events") is { } events)
        {
            kinds = AlertKinds.Parse(events, out var problem) ?? throw new UsageException($"{Name("events")}: {problem}");
        }

        return sinks.Count == 0 ? null : new AlertDispatcher(sinks, kinds, logging.CreateLogger("Keel.Runtime.Alerts"));
    }

    private static Uri? Url(string key, string? text, Func<string, string> name)
    {
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text.EndsWith('/') || key != "telegram_url" ? text : text + "/", UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"{name(key)} was '{text}'; it must be an http:// or https:// address");
        }

        return url;
    }
}
