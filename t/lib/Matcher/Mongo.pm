package Matcher::Mongo;

# The MongoDB wire-protocol test server (t/mongo/fake_mongo.py) for the
# suites: start, stop and restart it on the same port and data, and send
# it a command (configureFailPoint, listIndexes, find ...) through its
# client mode.  Every server this process started is killed at its end,
# even when a test dies midway (not at the end of a forked child).
#
#   use Matcher::Mongo;
#   my $m = start_mongo(user => 'u', password => 'p');  # all optional:
#                       # data => DIR, port => N, ttl_interval => S
#   "mongodb://u:p\@127.0.0.1:$m->{port}/?authSource=admin"
#   my $r = mongo_command($m, 'db', '{"find": "c", "filter": {"a": 1}}');
#   $r->{cursor}{firstBatch}[0]{_id}{'$oid'};   # Extended JSON
#   mongo_failpoint($m, {configureFailPoint => 'failCommand',
#                        mode => {times => 1},
#                        data => {failCommands => ['insert'],
#                                 errorCode => 91}});
#   mongo_stats($m)->{insert}{count};     # mongo_stats($m, 1): and reset
#   stop_mongo($m);  stop_mongo($m, 'KILL');      # SIGTERM / SIGKILL
#   restart_mongo($m);     # same port and data: acknowledged writes kept
#
# The server's stdout and stderr go to $m->{data}/server.log, its one line
# per command to $m->{data}/commands.log.  See t/mongo/README.md.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT = qw(start_mongo stop_mongo restart_mongo mongo_command
                 mongo_failpoint mongo_stats);

my $Python = $ENV{MATCHER_MONGO_PYTHON} // '/usr/bin/python3';  # with python3-bson
my $Root = abs_path(dirname(abs_path(__FILE__)) . '/../../..');
my $Script = "$Root/t/mongo/fake_mongo.py";
my $Json = JSON::PP->new->canonical;
my %Running;                       # pid -> the pid of the process that started it

sub spawn {
    my ($h) = @_;
    my $portfile = "$h->{data}/port";
    unlink $portfile;
    # port 0 the first time: the server binds a free one and says which,
    # so no other process can take it between a probe and the bind
    my @cmd = ($Python, $Script, '--port', $h->{port} // 0,
               '--data', $h->{data}, '--port-file', $portfile,
               '--log', "$h->{data}/commands.log",
               '--ttl-interval', $h->{ttl_interval} // 1);
    push @cmd, '--user', $h->{user}, '--password', $h->{password}
        if defined $h->{user};
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$h->{data}/server.log" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        POSIX::_exit(127);
    }
    $h->{pid} = $pid;
    $Running{$pid} = $$;
    my $deadline = time + 15;
    while (time < $deadline) {
        if (open my $fh, '<', $portfile) {
            my $port = <$fh>;
            if (defined $port && $port =~ /^(\d+)$/) {
                $h->{port} = $1;    # it listens (the file is written after)
                return $h;
            }
        }
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $Running{$pid};
            delete $h->{pid};
            die "fake_mongo.py exited ($?): " . _tail("$h->{data}/server.log");
        }
        sleep 0.05;
    }
    stop_mongo($h, 'KILL');
    die "fake_mongo.py did not start: " . _tail("$h->{data}/server.log");
}

sub _tail {
    my ($file) = @_;
    open my $fh, '<', $file or return "(no $file)\n";
    my @l = <$fh>;
    return join '', @l[($#l > 10 ? $#l - 10 : 0) .. $#l];
}

# start_mongo(data => DIR (default: a fresh temporary one),
#             port => N (default: a free one), user => U, password => P
#             (SCRAM required when given), ttl_interval => SECONDS)
# -> { port, pid, data, user, password }
sub start_mongo {
    my (%o) = @_;
    my $h = { data => $o{data} || tempdir('matcher-mongo-XXXXXX', TMPDIR => 1,
                                          CLEANUP => 1),
              port => $o{port}, user => $o{user}, password => $o{password},
              ttl_interval => $o{ttl_interval} };
    return spawn($h);
}

# stop_mongo($h): SIGTERM and wait (SIGKILL after 5 s);
# stop_mongo($h, 'KILL'): as a crash, nothing flushed
sub stop_mongo {
    my ($h, $sig) = @_;
    return unless $h->{pid};
    local $?;
    my $pid = $h->{pid};
    kill $sig // 'TERM', $pid;
    my $deadline = time + 5;
    while (time < $deadline) {
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.02;
    }
    if (kill 0, $pid) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    delete $Running{$pid};
    delete $h->{pid};
    return 1;
}

# the same port and data directory: what was acknowledged is still there;
# returns once the server accepts connections
sub restart_mongo {
    my ($h) = @_;
    stop_mongo($h);
    return spawn($h);
}

# mongo_command($h, $db, $json or a hashref) -> the reply as a hashref
# (Extended JSON: {"$oid": ...}, {"$date": ...}); authenticates when $h
# has a user.  A reply that is no JSON (the server is down, say) gives
# { ok => 0, raw => the output }.
sub mongo_command {
    my ($h, $db, $json) = @_;
    $json = $Json->encode($json) if ref $json;
    my @cmd = ($Python, $Script, '--client', "127.0.0.1:$h->{port}",
               '--db', $db, '--command', $json);
    push @cmd, '--user', $h->{user}, '--password', $h->{password}
        if defined $h->{user};
    open my $fh, '-|', @cmd or die "fake_mongo.py --client: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    return eval { JSON::PP->new->decode($out) } || { ok => 0, raw => $out };
}

# mongod's failCommand fail point: mongo_failpoint($h, {configureFailPoint
# => 'failCommand', mode => ..., data => ...}); dies unless it is set
sub mongo_failpoint {
    my ($h, $cmd) = @_;
    my $r = mongo_command($h, 'admin', $cmd);
    die "configureFailPoint failed: " . $Json->encode($r) . "\n"
        unless $r->{ok};
    return $r;
}

# { command => { count, totalMicros, avgMicros } } since the start or the
# last reset; mongo_stats($h, 1) resets after reading
sub mongo_stats {
    my ($h, $reset) = @_;
    return mongo_command($h, 'admin',
                         $reset ? '{"fakeStats": 1, "reset": true}'
                                : '{"fakeStats": 1}')->{commands};
}

END {
    my $status = $?;
    for my $pid (keys %Running) {
        next unless $Running{$pid} == $$;   # a forked child's END: not ours
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    $? = $status;
}

1;
