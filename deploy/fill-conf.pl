#!/usr/bin/perl
# Fills a conf's ${NAME}s from the environment (see deploy/run.sh): the
# names its "# matcher-env:" lines declare and the parts of their URLs,
# nothing else, so nginx's own $variables pass through untouched.  A
# required variable that is unset or empty stops it, naming the variable.
use strict;
use warnings;

my ($file) = @ARGV;
open(my $fh, '<', $file) or die "$file: $!\n";
my $text = do { local $/; <$fh> };
close $fh;

my %val;
for my $line ($text =~ /^#\s*matcher-env:\s*(.+?)\s*$/mg) {
    if ($line =~ /^([A-Z][A-Z0-9_]*)\s+required$/) {
        my $v = $ENV{$1};
        if (!defined $v || $v eq '') {
            print STDERR "$file needs the environment variable $1\n";
            exit 2;
        }
        $val{$1} = $v;
    } elsif ($line =~ /^([A-Z][A-Z0-9_]*)=(.*)$/) {
        $val{$1} = defined $ENV{$1} && $ENV{$1} ne '' ? $ENV{$1} : $2;
    } else {
        die "$file: bad matcher-env line: $line\n";
    }
}

# nothing that could end a directive or start another may come in
for my $k (sort keys %val) {
    next if $k =~ /_API_KEY$|^MONGODB_URI$/;   # never written into the conf
    if ($val{$k} =~ /[;{}'"\\\s#\$]/) {
        print STDERR "$k must not hold spaces, quotes, ';', '{', '}', '#' "
            . "or '\$'\n";
        exit 2;
    }
}

for my $x (['OPENAI', 'OPENAI_BASE_URL'], ['PINECONE', 'PINECONE_INDEX_HOST'])
{
    my ($p, $k) = @$x;
    next unless exists $val{$k};
    my $url = $val{$k};
    $url = "https://$url" unless $url =~ m{^[a-z]+://};
    my ($scheme, $host, $port, $path) =
        $url =~ m{^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d+))?(/[^?#]*)?$}
        or do { print STDERR "$k is not an http(s) URL: $val{$k}\n"; exit 2 };
    $path //= '';
    $path =~ s{/+$}{};
    my $authority = defined $port ? "$host:$port" : $host;
    $port //= $scheme eq 'https' ? 443 : 80;
    $val{$k} = "$scheme://$authority$path";
    @val{map { "${p}_$_" } qw(SCHEME HOST AUTHORITY HOSTPORT PATH)} =
        ($scheme, $host, $authority, "$host:$port", $path);
}

# a chat model turns framing through chat completions on
if (exists $val{OPENAI_CHAT_MODEL}) {
    $val{MATCHER_FRAMING} = $val{OPENAI_CHAT_MODEL} eq ''
        ? '# no OPENAI_CHAT_MODEL: framing from templates'
        : "matcher_framing openai model=$val{OPENAI_CHAT_MODEL};";
}

$text =~ s/\$\{([A-Z][A-Z0-9_]*)\}/exists $val{$1} ? $val{$1}
    : die "$file uses \${$1} but declares no matcher-env for it\n"/ge;

my $listen = $ENV{MATCHER_CONF_LISTEN};
# the port of every conf's "listen ADDRESS:8080;", whatever the address
$text =~ s/^(\s*listen\s+[^\s;]+):8080;/$1:$listen;/mg
    if defined $listen;

print $text;
