package Matcher::Conf;

# A shipped conf (conf/NAME.conf) served by deploy/run.sh, as a user
# starts it: a data directory of its own, a free port, the environment
# given.  nginx and its workers are killed when the test ends, whatever
# happens to it.
#
#   use Matcher::Conf;
#   my $run = run_conf('secure', { MATCHER_KEYS_FILE => $keys });
#   my $r = wait_health($run) ;          # GET /health until 200 (10 s)
#   ... $run->{base}, $run->{data} ...
#   stop_conf($run);                     # SIGQUIT, returns the wait status

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);

use Exporter 'import';
our @EXPORT = qw(run_conf wait_health stop_conf);

my $repo = abs_path(dirname(__FILE__) . '/../../..');
my @groups;

END { kill 'KILL', -$_ for @groups }

sub run_conf {
    my ($name, $env) = @_;
    my ($ndk, $so) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
    $so //= "$repo/build/ngx_http_matcher_module.so";

    my $data = tempdir('matcher-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $data;     # the workers' user makes the store in it
    my $sock = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
        or die "no free port: $!";
    my $port = $sock->sockport;
    close $sock;

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        setpgrp(0, 0);
        %ENV = (%ENV, %{ $env // {} }, MATCHER_CONF => $name, PORT => $port,
                DATA_DIR => $data, MATCHER_MODULE_SO => $so);
        open STDOUT, '>', "$data/run.log";
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec "$repo/deploy/run.sh"; }
        POSIX::_exit(127);
    }
    push @groups, $pid;
    return { name => $name, data => $data, port => $port, pid => $pid,
             base => "http://127.0.0.1:$port" };
}

sub wait_health {
    my ($run, $path) = @_;
    my $ua = HTTP::Tiny->new(timeout => 10);
    my $r;
    for (1 .. 100) {
        $r = $ua->get($run->{base} . ($path // '/health'));
        last if $r->{status} == 200;
        sleep 0.1;
    }
    if ($r->{status} != 200) {
        $r->{diag} = `cat $run->{data}/run.log; `
            . `grep -v debug $run->{data}/logs/error.log 2>/dev/null`;
    }
    return $r;
}

sub stop_conf {
    my ($run) = @_;
    kill 'QUIT', -$run->{pid};
    waitpid($run->{pid}, 0);
    @groups = grep { $_ != $run->{pid} } @groups;
    return $?;
}

1;
