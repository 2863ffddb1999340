using Keel.Cli;

// Keel's own command line; a user's program hands its strategies to the same one with KeelApp.RunAsync(args, [...]).
return await KeelApp.RunAsync(args).ConfigureAwait(false);
