package Matcher::Mongo;

# The MongoDB wire-protocol test server (t/mongo/fake_mongo.py) for the
# suites: start, stop and restart it on the same port and data, and send
# it a command (configureFailPoint, listIndexes, find ...) through its
# client mode.  Every server this process started is killed at its end,
# even when a test dies midway.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep);

use Exporter 'import';
our @EXPORT = qw(start_mongo stop_mongo restart_mongo mongo_command
                 mongo_failpoint mongo_stats);

my $Python = '/usr/bin/python3';   # Debian's, with python3-pymongo
my $Script = 't/mongo/fake_mongo.py';
my %Running;                       # pid -> 1

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub spawn {
    my ($h) = @_;
    my @cmd = ($Python, $Script, '--port', $h->{port}, '--data', $h->{data},
               '--log', "$h->{data}/commands.log");
    push @cmd, '--user', $h->{user}, '--password', $h->{password}
        if defined $h->{user};
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$h->{data}/server.log";
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec @cmd; }
        POSIX::_exit(127);
    }
    $h->{pid} = $pid;
    $Running{$pid} = 1;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$h->{port}",
                                      Timeout => 1);
        if ($s) { close $s; return $h; }
        die "fake_mongo.py exited: " . `tail -5 $h->{data}/server.log`
            if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.1;
    }
    die "fake_mongo.py does not listen on $h->{port}\n";
}

# start_mongo(data => DIR, port => N, user => U, password => P)
sub start_mongo {
    my (%o) = @_;
    my $h = { data => $o{data} || tempdir('matcher-mongo-XXXXXX', TMPDIR => 1,
                                          CLEANUP => 1),
              port => $o{port} || free_port(),
              user => $o{user}, password => $o{password} };
    return spawn($h);
}

sub stop_mongo {
    my ($h) = @_;
    return unless $h->{pid};
    local $?;
    kill 'TERM', $h->{pid};
    for (1 .. 50) {
        last if waitpid($h->{pid}, POSIX::WNOHANG()) == $h->{pid};
        sleep 0.1;
    }
    if (kill 0, $h->{pid}) {
        kill 'KILL', $h->{pid};
        waitpid($h->{pid}, 0);
    }
    delete $Running{$h->{pid}};
    delete $h->{pid};
}

# the same port and data directory: what was acknowledged is still there
sub restart_mongo {
    my ($h) = @_;
    stop_mongo($h);
    return spawn($h);
}

# mongo_command($h, $db, $json) -> the reply, decoded (Extended JSON:
# {"$oid": ...}, {"$date": ...})
sub mongo_command {
    my ($h, $db, $json) = @_;
    $json = JSON::PP->new->canonical->encode($json) if ref $json;
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
# => 'failCommand', mode => ..., data => ...})
sub mongo_failpoint {
    my ($h, $cmd) = @_;
    my $r = mongo_command($h, 'admin', $cmd);
    die "configureFailPoint failed: " . JSON::PP->new->encode($r) . "\n"
        unless $r->{ok};
    return $r;
}

sub mongo_stats {
    my ($h, $reset) = @_;
    return mongo_command($h, 'admin',
                         $reset ? '{"fakeStats": 1, "reset": true}'
                                : '{"fakeStats": 1}')->{commands};
}

END {
    my $status = $?;
    for my $pid (keys %Running) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    $? = $status;
}

1;
