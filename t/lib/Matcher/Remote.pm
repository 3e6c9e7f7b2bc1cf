package Matcher::Remote;

# The local stand-in for OpenAI and Pinecone (t/remote/fake_remote.py):
# start and stop it, inject faults, read what a client sent.  Core Perl
# modules and JSON::PP / HTTP::Tiny only.
#
#   use Matcher::Remote;
#   my $port = start_remote(openai_key => 'sk-test', pinecone_key => 'pc',
#                           dims => 8, state => "$dir/vectors.json");
#   remote_fault(path => '/v1/embeddings', kind => 'status', status => 429,
#                retry_after_ms => 50, count => 1);
#   ... point nginx at http://127.0.0.1:$port ...
#   is(remote_stats()->{embedding_inputs}, 3);
#   my $last = remote_last('/query');     # method, headers, body, ...
#   remote_reset();                       # faults and counters
#   stop_remote();                        # also done at END
#
# The server's one-line-per-request log goes to remote_log_file() (or to
# our stderr when MATCHER_REMOTE_VERBOSE is set).  See t/remote/README.md.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT = qw(start_remote stop_remote remote_stats remote_last
                 remote_log remote_fault remote_reset remote_clear
                 remote_request remote_port remote_url remote_log_file
                 remote_matcher_conf);

my $Json = JSON::PP->new->utf8->canonical->allow_nonref;
my $Root = abs_path(dirname(abs_path(__FILE__)) . '/../../..');
my $Script = "$Root/t/remote/fake_remote.py";
my $Http = HTTP::Tiny->new(timeout => 10, keep_alive => 0,
                           agent => 'matcher-remote-control/1');
my %Cur;            # pid, port, host, log, owner (the pid that started it)
my $LogDir;

# The http and server parts of an nginx configuration of the matcher
# against the running server: the remote pair, the internal locations as
# conf/remote.conf has them (shorter timeouts), and the API's locations.
# Keys come from the environment variables MATCHER_T_OPENAI_KEY and
# MATCHER_T_PINECONE_KEY, set here.  extra_http: more http lines.
sub remote_matcher_conf {
    my (%o) = @_;
    my $port = $Cur{port} or die "remote_matcher_conf: no server\n";
    my $creators = "$Root/t/data/creators.json";
    $ENV{MATCHER_T_OPENAI_KEY} = $o{openai_key};
    $ENV{MATCHER_T_PINECONE_KEY} = $o{pinecone_key};
    my $extra = $o{extra_http} // '';
    my $http = <<"_EOC_";
    matcher_store lmdb:store size=64m;
    matcher_creators_file $creators;
    matcher_cache_zone matcher:4m;
    matcher_openai location=/_matcher/openai/ key=env:MATCHER_T_OPENAI_KEY
                   url=http://127.0.0.1:$port/v1;
    matcher_pinecone location=/_matcher/pinecone/
                     key=env:MATCHER_T_PINECONE_KEY namespace=creators
                     url=http://127.0.0.1:$port;
    matcher_embedder openai;
    matcher_vectors pinecone;
$extra
    upstream matcher_remote {
        server 127.0.0.1:$port;
        keepalive 4;
    }
_EOC_
    my $config = <<"_EOC_";
    add_header X-Cache \$matcher_cache_status always;
    location /_matcher/openai/ {
        internal;
        include $Root/conf/matcher_remote_params;
        proxy_read_timeout 1s;
        proxy_pass http://matcher_remote/v1/;
    }
    location /_matcher/pinecone/ {
        internal;
        include $Root/conf/matcher_remote_params;
        proxy_read_timeout 1s;
        proxy_pass http://matcher_remote/;
    }
    location /api/assignments { matcher_assignments; }
    location /api/creators { matcher_creators; }
    location /api/matches { matcher_matches; }
    location = /api/health { matcher_health; }
_EOC_
    return ($http, $config);
}

sub remote_port { $Cur{port} }
sub remote_url  { $Cur{port} ? "http://$Cur{host}:$Cur{port}" : undef }
sub remote_log_file { $Cur{log} }

# start_remote(port => N (default: a free one), host => '127.0.0.1',
#              openai_key => K, pinecone_key => K, dims => 1536,
#              state => FILE, log => FILE, python => 'python3')
# Keys not given mean no key check (the server's environment fallback is
# turned off, so a developer's real OPENAI_API_KEY never matters here).
sub start_remote {
    my %o = @_;
    die "start_remote: a fake remote is already running on port "
        . "$Cur{port}; stop_remote() first\n" if $Cur{pid};
    my $host = $o{host} // '127.0.0.1';
    my @cmd = ($o{python} // $ENV{MATCHER_PYTHON} // 'python3', $Script,
               '--port', $o{port} // 0, '--host', $host,
               '--openai-key', $o{openai_key} // '',
               '--pinecone-key', $o{pinecone_key} // '');
    push @cmd, '--dims', $o{dims} if defined $o{dims};
    push @cmd, '--state', $o{state} if defined $o{state};

    my $log = $o{log};
    unless (defined $log) {
        $LogDir //= tempdir('matcher-remote-XXXXXX', TMPDIR => 1,
                            CLEANUP => 1);
        $log = "$LogDir/fake_remote.log";
    }

    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        open STDOUT, '>&', $w or POSIX::_exit(126);
        unless ($ENV{MATCHER_REMOTE_VERBOSE}) {
            open STDERR, '>>', $log or POSIX::_exit(126);
        }
        open STDIN, '<', '/dev/null';
        { exec { $cmd[0] } @cmd }
        print STDERR "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    close $w;

    my $sel = IO::Select->new($r);
    my $line = '';
    my $deadline = time + ($o{timeout} // 10);
    while ($line !~ /\n/ && time < $deadline
           && $sel->can_read($deadline - time)) {
        my $n = sysread($r, my $buf, 256);
        last unless $n;
        $line .= $buf;
    }
    close $r;
    if ($line =~ /^ready (\d+)$/m) {
        %Cur = (pid => $pid, port => $1, host => $host, log => $log,
                owner => $$);
        return $1;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    my $tail = '';
    if (open my $fh, '<', $log) {
        my @l = <$fh>;
        $tail = join '', @l[($#l > 20 ? $#l - 20 : 0) .. $#l];
    }
    die "fake remote did not start (@cmd): got '$line'\n$tail";
}

sub stop_remote {
    return unless $Cur{pid} && $Cur{owner} == $$;
    my $pid = $Cur{pid};
    kill 'TERM', $pid;
    my $deadline = time + 5;
    while (time < $deadline) {
        last if waitpid($pid, WNOHANG) == $pid;
        sleep 0.02;
    }
    if (kill 0, $pid) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    %Cur = ();
    return 1;
}

END {
    my $rc = $?;
    stop_remote() if $Cur{pid} && $Cur{owner} == $$;
    $? = $rc;
}

# remote_request(METHOD, PATH, [BODY (ref → JSON, or string)],
#                [HEADER => VALUE ...]) → { status, reason, headers,
# body, json (when the body parses) }.  Connection errors give status
# 599 and the error text as body (HTTP::Tiny's convention).
sub remote_request {
    my ($method, $path, $body, %h) = @_;
    die "remote_request: no fake remote running\n" unless $Cur{port};
    my %args = (headers => \%h);
    if (defined $body) {
        $body = $Json->encode($body) if ref $body;
        $args{content} = $body;
        $h{'Content-Type'} //= 'application/json';
    }
    my $res = $Http->request($method, remote_url() . $path, \%args);
    my %out = (status => $res->{status}, reason => $res->{reason},
               headers => $res->{headers}, body => $res->{content} // '');
    $out{json} = eval { $Json->decode($out{body}) } if length $out{body};
    return \%out;
}

sub _control {
    my ($method, $path, $body) = @_;
    my $r = remote_request($method, $path, $body);
    die "fake remote $method $path: $r->{status} $r->{body}\n"
        unless $r->{status} == 200;
    return $r->{json};
}

sub remote_stats { _control(GET => '/_control/stats') }

# the last request to PATH (any path when not given), or undef
sub remote_last {
    my ($path) = @_;
    my $q = defined $path ? '?path=' . _uri_escape($path) : '';
    my $r = remote_request(GET => "/_control/last$q");
    return undef if $r->{status} == 404;
    die "fake remote last: $r->{status} $r->{body}\n"
        unless $r->{status} == 200;
    return $r->{json};
}

# the recorded requests (oldest first) to PATH, or to any path
sub remote_log {
    my ($path, $limit) = @_;
    my @q;
    push @q, 'path=' . _uri_escape($path) if defined $path;
    push @q, "limit=$limit" if defined $limit;
    return _control(GET => '/_control/log' . (@q ? '?' . join('&', @q) : ''));
}

# remote_fault(path => P, kind => K, status => S, count => N, ...)
sub remote_fault { _control(POST => '/_control/fault', {@_}) }
sub remote_reset { _control(POST => '/_control/reset', {}) }
sub remote_clear { _control(POST => '/_control/clear', {}) }

sub _uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~\/])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

1;
